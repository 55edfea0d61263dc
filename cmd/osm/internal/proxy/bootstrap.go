package proxy

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// PodBootstrap is the bootstrap an injected pod uses.
type PodBootstrap struct {
	Pod       *corev1.Pod
	ConfigMap *corev1.ConfigMap
	// YAML is the ConfigMap's bootstrap.yaml.
	YAML []byte
}

// ReadBootstrap reads the bootstrap pod ns/name mounts, from its ConfigMap; it needs no
// running Envoy.
func ReadBootstrap(ctx context.Context, cs kubernetes.Interface, ns, name string) (*PodBootstrap, error) {
	pod, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("pod %s not found in namespace %s (kubectl get pods -n %s)", name, ns, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("when getting pod %s/%s: %w", ns, name, err)
	}
	return ReadPodBootstrap(ctx, cs, pod)
}

// ReadPodBootstrap is ReadBootstrap for a pod already read.
func ReadPodBootstrap(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod) (*PodBootstrap, error) {
	cmName, err := BootstrapConfigMapName(pod)
	if err != nil {
		return nil, err
	}
	cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, cmName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("ConfigMap %s/%s, the bootstrap pod %s mounts at %s, no longer exists; "+
			"re-create the pod (kubectl rollout restart on its workload, or delete the pod) so the "+
			"injector writes it again", pod.Namespace, cmName, pod.Name, bootstrap.EnvoyBootstrapDir)
	}
	if err != nil {
		return nil, fmt.Errorf("when getting ConfigMap %s/%s: %w", pod.Namespace, cmName, err)
	}
	data, ok := cm.Data[bootstrap.BootstrapKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s/%s has no key %s; it was not written by the injector",
			pod.Namespace, cmName, bootstrap.BootstrapKey)
	}
	return &PodBootstrap{Pod: pod, ConfigMap: cm, YAML: []byte(data)}, nil
}
