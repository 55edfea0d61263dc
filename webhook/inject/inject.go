package inject

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Inject returns a copy of pod with the sidecar of bootstrap g: the init container osm-init
// after the pod's own init containers (so theirs run before the redirect and keep their
// network), the container envoy, the bootstrap ConfigMap's volume, and the pod label
// tracing.openservicemesh.io/bootstrap-hash=<hash>. A sidecar already there is replaced, so
// Inject(Inject(p, g), g) equals Inject(p, g), and injecting with another bootstrap updates
// it. The input pod is never modified. What it adds is Parts(pod, g, proxy).
//
// Envoy comes after the application's containers, as in OSM and Istio's default: the kubelet
// starts containers in order but does not wait for one to be ready before the next, so
// putting it first would buy little, and would make it the default container of kubectl logs
// and exec. A pod that does not restart its containers (restartPolicy Never or OnFailure: a
// Job's, say) gets Envoy as a native sidecar instead, the last init container with
// restartPolicy Always: a regular Envoy container would never exit and keep the Job from ever
// completing, whereas the kubelet stops a native sidecar once the application is done.
func Inject(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig) *corev1.Pod {
	out, _ := injectParts(pod, g, proxy)
	return out
}

// nativeSidecar reports a pod whose containers are meant to finish.
func nativeSidecar(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy == corev1.RestartPolicyNever || pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
}

// Uninject returns a copy of pod without what Inject adds: the containers envoy (regular or
// native sidecar) and osm-init, the bootstrap volume and the bootstrap-hash label. Lists and
// maps left empty become nil, so Uninject(Inject(p)) equals p for a pod that was not
// injected. A nil pod gives nil.
func Uninject(pod *corev1.Pod) *corev1.Pod {
	if pod == nil {
		return nil
	}
	out := pod.DeepCopy()
	out.Spec.Containers = withoutContainers(out.Spec.Containers, EnvoyContainerName, "")
	out.Spec.InitContainers = withoutContainers(out.Spec.InitContainers, InitContainerName, EnvoyContainerName)
	out.Spec.Volumes = withoutVolume(out.Spec.Volumes, BootstrapVolumeName)
	if _, ok := out.Labels[bootstrap.BootstrapHashKey]; ok {
		delete(out.Labels, bootstrap.BootstrapHashKey)
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
