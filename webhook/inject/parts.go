package inject

import (
	"maps"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Additions are the parts Inject adds to a pod, each to the end of its list: the admission
// webhook answers with a JSON patch that appends exactly these to the pod it was sent, and
// leaves everything else as the user wrote it.
type Additions struct {
	// InitContainers go after the pod's own: osm-init, then envoy when it is a native
	// sidecar (restartPolicy Always).
	InitContainers []corev1.Container
	// Containers go after the pod's own: envoy when it is a regular container.
	Containers []corev1.Container
	// Volumes go after the pod's own: the bootstrap ConfigMap's.
	Volumes []corev1.Volume
	// Labels are set on the pod: the bootstrap hash.
	Labels map[string]string
}

// Parts returns what Inject adds to pod for bootstrap g: envoy is a native sidecar when the
// pod's containers are meant to finish (see Inject). Only the pod's restart policy is read;
// a nil pod gives none. The values are new: nothing is shared with pod, g or proxy.
func Parts(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig) Additions {
	if pod == nil {
		return Additions{}
	}
	proxy = proxy.withDefaults()
	add := Additions{
		InitContainers: []corev1.Container{initContainer(proxy)},
		Volumes:        []corev1.Volume{bootstrapVolume(g)},
		Labels:         map[string]string{bootstrap.BootstrapHashKey: g.Hash},
	}
	envoy := envoyContainer(proxy)
	if nativeSidecar(pod) {
		envoy.RestartPolicy = new(corev1.ContainerRestartPolicyAlways)
		add.InitContainers = append(add.InitContainers, envoy)
	} else {
		add.Containers = []corev1.Container{envoy}
	}
	return add
}

// injectParts is Inject, and what it added: the additions' containers and volume are in the
// pod by value, so their pointers, slices and maps are shared with it.
func injectParts(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig) (*corev1.Pod, Additions) {
	out := Uninject(pod)
	if out == nil {
		return nil, Additions{}
	}
	add := Parts(out, g, proxy)
	add.addTo(out)
	return out, add
}

// addTo appends the additions to pod's lists and sets its labels.
func (a Additions) addTo(pod *corev1.Pod) {
	pod.Spec.InitContainers = append(pod.Spec.InitContainers, a.InitContainers...)
	pod.Spec.Containers = append(pod.Spec.Containers, a.Containers...)
	pod.Spec.Volumes = append(pod.Spec.Volumes, a.Volumes...)
	if len(a.Labels) > 0 && pod.Labels == nil {
		pod.Labels = make(map[string]string, len(a.Labels))
	}
	maps.Copy(pod.Labels, a.Labels)
}
