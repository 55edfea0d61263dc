package inject

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// This file holds the pod rules every caller shares: the admission handler, the re-bootstrap
// controller, and the CLI's proxy and check commands. None of them re-derives any of these.

// Sidecar returns the envoy container of spec: a native sidecar (an init container, as the
// injector adds it) or a regular container (as older injectors did); nil when there is none.
// The pointer is into spec.
func Sidecar(spec *corev1.PodSpec) *corev1.Container {
	if spec == nil {
		return nil
	}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == EnvoyContainerName {
				return &cs[i]
			}
		}
	}
	return nil
}

// SidecarStatus returns the status of the pod's envoy container, wherever it runs (init
// container statuses for a native sidecar); nil when the kubelet reports none yet.
func SidecarStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	if pod == nil {
		return nil
	}
	for _, ss := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range ss {
			if ss[i].Name == EnvoyContainerName {
				return &ss[i]
			}
		}
	}
	return nil
}

// PodName is the name a pod's service name falls back to: its generateName when it has one,
// else its name. The admission request of a pod created with generateName (every pod of a
// ReplicaSet, Job or `kubectl run --generate-name`) carries no name yet, so the webhook can
// only see the prefix; every later look at the same pod must use the prefix too, or the pod
// would resolve to another service name and bootstrap than the one it runs.
func PodName(m *metav1.ObjectMeta) string {
	if m == nil {
		return ""
	}
	if m.GenerateName != "" {
		return m.GenerateName
	}
	return m.Name
}

// PodInput is the bootstrap.Input of pod in namespace ns: env's defaults and MeshConfig, the
// namespace's and the pod's annotations, the pod's owner (from its owner references), labels
// and PodName. Only the pod's metadata is read.
func (e Env) PodInput(pod *corev1.Pod, ns Namespace) bootstrap.Input {
	return e.input(&pod.ObjectMeta, ns, bootstrap.OwnerOf(pod), PodName(&pod.ObjectMeta))
}

// TemplateInput is the bootstrap.Input of the pods of a workload's pod template: like
// PodInput, with the workload as the owner and no pod name (the owner names them).
func (e Env) TemplateInput(owner bootstrap.Workload, tpl *metav1.ObjectMeta, ns Namespace) bootstrap.Input {
	return e.input(tpl, ns, owner, PodName(tpl))
}

func (e Env) input(m *metav1.ObjectMeta, ns Namespace, owner bootstrap.Workload, podName string) bootstrap.Input {
	e = e.withDefaults()
	namespace := ns.Name
	if namespace == "" {
		namespace = m.Namespace
	}
	return bootstrap.Input{
		Defaults:             e.Defaults,
		Mesh:                 e.Mesh,
		NamespaceName:        namespace,
		NamespaceAnnotations: ns.Annotations,
		PodAnnotations:       m.Annotations,
		Owner:                owner,
		PodLabels:            m.Labels,
		PodName:              podName,
	}
}
