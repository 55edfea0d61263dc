package inject

// STUB: helper "core-resolve" replaces this file with the real injector (and deletes this file).

import (
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// ProxyConfig is what the chart decides about the injected containers.
type ProxyConfig struct {
	EnvoyImage    string
	InitImage     string
	LogLevel      string
	Resources     corev1.ResourceRequirements
	InitResources corev1.ResourceRequirements
}

// Env is the cluster-wide input of a mutation: where the control plane lives, the defaults,
// the MeshConfig's tracing spec, the proxy config.
type Env struct {
	ControlPlaneNamespace string
	Defaults              bootstrap.Tracing
	Mesh                  *v1alpha2.TracingSpec
	Proxy                 ProxyConfig
}

// Namespace is what the injector needs to know of the pod's namespace.
type Namespace struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
}

// Result of Mutate. When Skipped, Pod is the input unchanged and Reason says why.
type Result struct {
	Skipped   bool
	Reason    string
	Settings  bootstrap.Settings
	Bootstrap bootstrap.Generated
	ConfigMap *corev1.ConfigMap
	Pod       *corev1.Pod
}

// Mutate decides whether pod is injected and, if so, returns the injected copy and the
// bootstrap ConfigMap it mounts. The input pod is never modified.
func Mutate(pod *corev1.Pod, ns Namespace, env Env) (Result, error) {
	return Result{}, errors.New("not implemented")
}
