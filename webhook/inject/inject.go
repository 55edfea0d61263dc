package inject

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Inject returns a copy of pod with the sidecar of bootstrap g and traffic settings t (see
// ResolveTraffic): the init container osm-init after the pod's own init containers (so theirs
// run before the redirect and keep their network), then envoy as a native sidecar (see
// envoyContainer), the bootstrap ConfigMap's volume, and the pod label
// tracing.openservicemesh.io/bootstrap-hash=<hash>. A sidecar already there is replaced, so
// Inject(Inject(p, g), g) equals Inject(p, g), and injecting with another bootstrap updates
// it. The input pod is never modified. What it adds is Parts(pod, g, proxy, t).
//
// Istio puts its native sidecar first among the init containers, so the pod's own init
// containers already have the mesh; here they run before both, with the network they would
// have without the injector (an init container fetching a secret from outside the cluster
// keeps working, and none waits for an Envoy that is not started yet). A native sidecar of
// the user's own (restartPolicy Always) declared among them runs outside the redirect.
func Inject(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig, t Traffic) *corev1.Pod {
	out, _ := injectParts(pod, g, proxy, t)
	return out
}

// Uninject returns a copy of pod without what Inject adds: the containers envoy (regular or
// native sidecar) and osm-init, the bootstrap volume and the bootstrap-hash and settings-hash
// labels. Lists and maps left empty become nil, so Uninject(Inject(p)) equals p for a pod
// that was not injected. A nil pod gives nil.
func Uninject(pod *corev1.Pod) *corev1.Pod {
	if pod == nil {
		return nil
	}
	out := pod.DeepCopy()
	out.Spec.Containers = withoutContainers(out.Spec.Containers, EnvoyContainerName, "")
	out.Spec.InitContainers = withoutContainers(out.Spec.InitContainers, InitContainerName, EnvoyContainerName)
	out.Spec.Volumes = withoutVolume(out.Spec.Volumes, BootstrapVolumeName)
	if len(out.Labels) > 0 {
		delete(out.Labels, bootstrap.BootstrapHashKey)
		delete(out.Labels, bootstrap.SettingsHashKey)
		if len(out.Labels) == 0 {
			out.Labels = nil
		}
	}
	return out
}

// withoutContainers drops the containers named a or b; nil when none is left but some were
// dropped.
func withoutContainers(cs []corev1.Container, a, b string) []corev1.Container {
	kept := cs[:0]
	for _, c := range cs {
		if c.Name != a && (b == "" || c.Name != b) {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 && len(cs) > 0 {
		return nil
	}
	return kept
}

// withoutVolume drops the volume named name; nil when none is left but one was dropped.
func withoutVolume(vs []corev1.Volume, name string) []corev1.Volume {
	kept := vs[:0]
	for _, v := range vs {
		if v.Name != name {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 && len(vs) > 0 {
		return nil
	}
	return kept
}
