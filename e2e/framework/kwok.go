package framework

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KwokNodeName is the fake node kwok runs Pods on.
const KwokNodeName = "kwok-node-0"

// kwokPodCIDR is where kwok takes fake Pod IPs from: strings in Pod status, never routed.
const kwokPodCIDR = "10.244.0.1/24"

// startKwok installs kwok's PortForward CRD and the given PortForwards, starts kwok as the
// kubelet of every node (its kubelet API on 127.0.0.1:kubeletPort, HTTPS with a certificate of
// the cluster's CA), and adds the fake node.
func startKwok(ctx context.Context, r *runner, bins Binaries, ca *CA, c *Cluster, kubeletPort int,
	forwards []PortForward,
) error {
	if err := installCRD(ctx, r, c.dynamic, bins.KwokPortForwardCRD); err != nil {
		return err
	}
	for _, pf := range forwards {
		if err := c.AddPortForward(ctx, pf); err != nil {
			return err
		}
	}
	serving, err := ca.NewServingCert("kwok", []net.IP{net.ParseIP(loopbackHost)}, []string{"localhost"})
	if err != nil {
		return err
	}
	certPath, keyPath := filepath.Join(r.dir, "kwok.crt"), filepath.Join(r.dir, "kwok.key")
	if err := serving.WriteFiles(certPath, keyPath); err != nil {
		return err
	}
	kubeconfig := filepath.Join(r.dir, "kwok.kubeconfig")
	if err := writeKubeconfig(kubeconfig, c.APIServerURL, ca.PEM, c.kwokUser); err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--manage-all-nodes=true",
		"--node-ip=" + loopbackHost,
		"--node-port=" + strconv.Itoa(kubeletPort),
		"--server-address=" + hostPort(kubeletPort),
		"--tls-cert-file=" + certPath,
		"--tls-private-key-file=" + keyPath,
		"--cidr=" + kwokPodCIDR,
		// PortForwards are read from the cluster, so tests can add them while kwok runs.
		"--enable-crds=PortForward",
	}
	for _, stage := range bins.KwokStages {
		args = append(args, "--config="+stage)
	}
	// HOME keeps kwok away from a developer's ~/.kwok/kwok.yaml.
	if _, err := r.start("kwok", bins.Kwok, args, "HOME="+r.dir); err != nil {
		return err
	}
	if err := createKwokNode(ctx, c.Clientset); err != nil {
		return err
	}
	if err := waitListening(ctx, r, "kwok's kubelet API", hostPort(kubeletPort)); err != nil {
		return err
	}
	return waitNodeReady(ctx, r, c.Clientset, KwokNodeName)
}

func createKwokNode(ctx context.Context, cs kubernetes.Interface) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: KwokNodeName,
			Labels: map[string]string{
				"kubernetes.io/hostname": KwokNodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
			Annotations: map[string]string{
				"kwok.x-k8s.io/node":           "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil &&
		!apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("when creating node %s: %w", KwokNodeName, err)
	}
	return nil
}

// waitNodeReady waits until the node is Ready and has none of the taints that keep Pods away
// from a node that is not ready.
func waitNodeReady(ctx context.Context, r *runner, cs kubernetes.Interface, name string) error {
	return r.waitFor(ctx, "node "+name+" Ready and untainted", func(ctx context.Context) (bool, error) {
		node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("getting node %s: %w", name, err)
		}
		ready := false
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			return false, fmt.Errorf("node %s is not Ready yet", name)
		}
		for _, taint := range node.Spec.Taints {
			if taint.Key == corev1.TaintNodeNotReady || taint.Key == corev1.TaintNodeUnreachable {
				return false, fmt.Errorf("node %s still has taint %s", name, taint.ToString())
			}
		}
		return true, nil
	})
}

// waitListening waits until a TCP connection to addr succeeds.
func waitListening(ctx context.Context, r *runner, what, addr string) error {
	return r.waitFor(ctx, what+" on "+addr, func(ctx context.Context) (bool, error) {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, err
		}
		return true, conn.Close()
	})
}
