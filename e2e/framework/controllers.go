package framework

import (
	"context"
	"fmt"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// startControllers runs kube-controller-manager and kube-scheduler, each with its own
// kubeconfig, leader election off and no serving port.
func startControllers(r *runner, bins Binaries, f apiServerFiles, caPEM []byte, server, serviceRange string,
	kcm, scheduler user,
) error {
	kcmConfig := filepath.Join(r.dir, "kube-controller-manager.kubeconfig")
	if err := writeKubeconfig(kcmConfig, server, caPEM, kcm); err != nil {
		return err
	}
	schedConfig := filepath.Join(r.dir, "kube-scheduler.kubeconfig")
	if err := writeKubeconfig(schedConfig, server, caPEM, scheduler); err != nil {
		return err
	}
	kcmArgs := []string{
		"--kubeconfig=" + kcmConfig,
		"--leader-elect=false",
		"--bind-address=" + loopbackHost,
		"--secure-port=0",
		"--service-account-private-key-file=" + f.saKey,
		"--root-ca-file=" + f.caCert,
		// Notice a Ready kwok node (and lift its not-ready taint) within a second, not five.
		"--node-monitor-period=1s",
		"--use-service-account-credentials=false",
		// A real control plane's controller manager is not held to the default 20 QPS; scale
		// tests (1,000 Deployments rolling) would measure that limit instead of our controller.
		"--kube-api-qps=200",
		"--kube-api-burst=400",
		"--service-cluster-ip-range=" + serviceRange,
		// Its default, /usr/libexec/kubernetes/kubelet-plugins/volume/exec, is made on the
		// machine at start.
		"--flex-volume-plugin-dir=" + filepath.Join(r.dir, "volume-plugins"),
	}
	if _, err := r.start("kube-controller-manager", bins.KubeControllerManager, kcmArgs); err != nil {
		return err
	}
	schedArgs := []string{
		"--kubeconfig=" + schedConfig,
		"--leader-elect=false",
		"--bind-address=" + loopbackHost,
		"--secure-port=0",
	}
	if _, err := r.start("kube-scheduler", bins.KubeScheduler, schedArgs); err != nil {
		return err
	}
	return nil
}

// waitDefaultServiceAccount waits until the service-account controller made default/default,
// without which the ServiceAccount admission plugin refuses Pods.
func waitDefaultServiceAccount(ctx context.Context, r *runner, cs kubernetes.Interface) error {
	return r.waitFor(ctx, "the default ServiceAccount", func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("getting default/default: %w", err)
		}
		return true, nil
	})
}
