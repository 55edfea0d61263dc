package inject

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Additions are the parts Inject adds to a pod: the admission webhook answers with a JSON
// patch that adds exactly these to the pod it was sent, and leaves everything else as the
// user wrote it.
type Additions struct {
	// InitContainers go before the pod's own (see Inject for why): osm-init, then envoy as a
	// native sidecar (restartPolicy Always).
	InitContainers []corev1.Container
	// Volumes go after the pod's own: the bootstrap ConfigMap's and the run volume.
	Volumes []corev1.Volume
	// Labels are set on the pod: the bootstrap hash and the settings hash
	// (bootstrap.SettingsHash of the settings the bootstrap was generated from).
	Labels map[string]string
	// Annotations are set on the pod: Prometheus' scrape annotations of the sidecar's
	// statistics (PrometheusAnnotations), only when the pod has no prometheus.io/ annotation
	// of its own, so none is ever replaced. Nil otherwise.
	Annotations map[string]string
}

// Parts returns what Inject adds to a pod for bootstrap g and traffic settings t: osm-init
// with t's redirect, envoy as a native sidecar, the bootstrap volume and the hash label. A nil
// pod gives none. The labels are the bootstrap hash and the settings hash: the re-bootstrap
// controller tells a change of settings (roll) from a change of rendering (outdated) by them. The values are new: nothing is shared with pod, g, proxy or t.
//
// The containers' resources are proxy's (Mutate puts the pod's ResolveResources in
// proxy.Resources), except in a Guaranteed pod (PodQOS): there, so that it stays Guaranteed,
// envoy and osm-init get for CPU and memory a request equal to their limit, each the
// container's limit if it has one, else its request, else the built-in default's (see
// guaranteedResources). A pod with pod-level resources (spec.resources) has the class of
// those, which injection does not change; our containers share its budget (withinPodBudget).
// Any other pod keeps its class too: a Burstable pod stays Burstable whatever our containers
// set, and a BestEffort one becomes Burstable, since the sidecar requests resources.
//
// The pod gets Prometheus' scrape annotations (PrometheusAnnotations) unless it has a
// prometheus.io/ annotation already: the app's own scrape settings are never replaced, nor
// mixed with ours.
func Parts(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig, t Traffic) Additions {
	if pod == nil {
		return Additions{}
	}
	proxy = proxy.withDefaults()
	switch {
	case podLevelResources(pod):
		init := *proxy.InitResources.DeepCopy()
		_ = withinPodBudget(&init, pod.Spec.Resources, nil) // nil: drops the chart's values, refuses none
		proxy.InitResources = init
	case PodQOS(pod) == corev1.PodQOSGuaranteed:
		proxy.Resources = guaranteedResources(proxy.Resources, guaranteedEnvoyDefaults)
		proxy.InitResources = guaranteedResources(proxy.InitResources, guaranteedInitDefaults)
	}
	add := Additions{
		InitContainers: []corev1.Container{initContainer(proxy, t), envoyContainer(proxy, t)},
		Volumes:        []corev1.Volume{bootstrapVolume(g), runVolume()},
		Labels: map[string]string{
			bootstrap.BootstrapHashKey: g.Hash,
			bootstrap.SettingsHashKey:  bootstrap.SettingsHash(g.Settings),
		},
	}
	if !hasPrometheusAnnotations(pod.Annotations) {
		add.Annotations = PrometheusAnnotations()
	}
	return add
}

// injectParts is Inject, and what it added: the additions' containers and volume are in the
// pod by value, so their pointers, slices and maps are shared with it.
func injectParts(pod *corev1.Pod, g bootstrap.Generated, proxy ProxyConfig, t Traffic) (*corev1.Pod, Additions) {
	out := Uninject(pod)
	if out == nil {
		return nil, Additions{}
	}
	add := Parts(out, g, proxy, t)
	add.addTo(out)
	return out, add
}

// addTo puts the init containers before pod's own, appends the volumes and sets the labels
// and annotations.
func (a Additions) addTo(pod *corev1.Pod) {
	pod.Spec.InitContainers = append(slices.Clip(a.InitContainers), pod.Spec.InitContainers...)
	pod.Spec.Volumes = append(pod.Spec.Volumes, a.Volumes...)
	if len(a.Labels) > 0 && pod.Labels == nil {
		pod.Labels = make(map[string]string, len(a.Labels))
	}
	maps.Copy(pod.Labels, a.Labels)
	if len(a.Annotations) > 0 && pod.Annotations == nil {
		pod.Annotations = make(map[string]string, len(a.Annotations))
	}
	maps.Copy(pod.Annotations, a.Annotations)
}
