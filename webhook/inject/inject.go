package inject

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Inject returns a copy of pod with the sidecar of bootstrap g and traffic settings t (see
// ResolveTraffic): the init container osm-init, then envoy as a native sidecar (see
// envoyContainer), both before the pod's own init containers, the bootstrap ConfigMap's
// volume, the pod labels tracing.openservicemesh.io/bootstrap-hash=<hash> (the marker of
// an injected pod, see IsInjected) and settings-hash, and Prometheus' scrape annotations when
// the pod has none of its own. A sidecar already there is replaced, so
// Inject(Inject(p, g), g) equals Inject(p, g), and injecting with another bootstrap updates
// it. The input pod is never modified. What it adds is Parts(pod, g, proxy, t).
//
// First, as Istio places its proxy once it is a native sidecar: every init container and
// native sidecar of the user's then starts with the redirect installed and Envoy ready (the
// kubelet starts the next init container only once envoy's startup probe passes), so they
// all get a working mesh. After them, as this injector once did, the user's own native
// sidecars (which keep running when osm-init installs the redirect) had their connections
// refused from osm-init's exit until Envoy listened, and their outbound connections opened
// before it went around Envoy for good. The cost: a user's init container now reaches the
// network through Envoy, which passes every connection on to where it was going; one that
// must not (say it programs the pod's network itself) belongs out of the mesh or in an
// exclusion annotation.
func Inject(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig, t Traffic) *corev1.Pod {
	out, _ := injectParts(pod, g, proxy, t)
	return out
}

// Uninject returns a copy of pod without what Inject adds: the containers envoy (regular or
// native sidecar) and osm-init, the bootstrap and run volumes (or ones left over in a copied spec)
// and the bootstrap-hash and settings-hash labels, and, in an injected pod, Prometheus' scrape
// annotations when they are exactly the ones Inject sets (PrometheusAnnotations; they point
// at the sidecar). Lists and maps left empty become nil, so Uninject(Inject(p)) equals p for a pod
// that was not injected. Only an injected pod (IsInjected: our marker) loses containers and
// a volume: in any other pod, containers named envoy or osm-init are the user's, and they
// are kept. A nil pod gives nil.
func Uninject(pod *corev1.Pod) *corev1.Pod {
	if pod == nil {
		return nil
	}
	out := pod.DeepCopy()
	injected := IsInjected(pod)
	if injected {
		out.Spec.Containers = withoutContainers(out.Spec.Containers, EnvoyContainerName, "")
		out.Spec.InitContainers = withoutContainers(out.Spec.InitContainers, InitContainerName, EnvoyContainerName)
	}
	out.Spec.Volumes = withoutOurVolumes(&out.Spec, injected)
	if injected && ourPrometheusAnnotations(out.Annotations) {
		out.Annotations = withoutPrometheusAnnotations(out.Annotations)
	}
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

// withoutOurVolumes drops the bootstrap and run volumes from spec's volumes: ours in an
// injected pod, else only leftovers (see leftoverVolume); nil when none is left but one was
// dropped.
func withoutOurVolumes(spec *corev1.PodSpec, injected bool) []corev1.Volume {
	vs := spec.Volumes
	kept := vs[:0]
	for i := range vs {
		if v := vs[i]; !isOurVolumeName(v.Name) || !injected && !leftoverVolume(spec, &v) {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 && len(vs) > 0 {
		return nil
	}
	return kept
}
