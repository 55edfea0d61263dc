package manifests

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// podMonitor is the part of the Prometheus Operator's PodMonitor the chart renders; decoding
// strictly into it fails on a field the chart writes that is not there.
type podMonitor struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		NamespaceSelector struct {
			Any bool `json:"any"`
		} `json:"namespaceSelector"`
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval,omitempty"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

const podMonitorKey = "PodMonitor/osm-sidecars"

// TestChartPodMonitor: osm.prometheus.podMonitor.enabled renders a PodMonitor that selects
// every injected pod (by the label injection sets on each), in every namespace, on the
// envoy container's Prometheus port and path; off by default.
func TestChartPodMonitor(t *testing.T) {
	if r := mustRender(t, testNamespace, nil); r.has(podMonitorKey) {
		t.Errorf("%s is rendered by default", podMonitorKey)
	}
	if r := mustRender(t, testNamespace, set("osm.prometheus.podMonitor.enabled=false")); r.has(podMonitorKey) {
		t.Errorf("%s is rendered although disabled", podMonitorKey)
	}

	r := mustRender(t, testNamespace, set("osm.prometheus.podMonitor.enabled=true"))
	var pm podMonitor
	r.get(podMonitorKey, &pm)
	if pm.APIVersion != "monitoring.coreos.com/v1" || pm.Metadata.Namespace != testNamespace {
		t.Errorf("PodMonitor %s in %q", pm.APIVersion, pm.Metadata.Namespace)
	}
	if !pm.Spec.NamespaceSelector.Any {
		t.Error("the PodMonitor does not select pods in every namespace")
	}
	want := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: bootstrap.BootstrapHashKey, Operator: metav1.LabelSelectorOpExists,
	}}}
	if got, _ := json.Marshal(pm.Spec.Selector); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("selector %s, want %s", got, must(json.Marshal(want)))
	}
	if eps := pm.Spec.PodMetricsEndpoints; len(eps) != 1 || eps[0].Port != inject.PortNamePrometheus ||
		eps[0].Path != bootstrap.PrometheusPath || eps[0].Interval != "" {
		t.Errorf("endpoints %+v, want port %s path %s", eps, inject.PortNamePrometheus, bootstrap.PrometheusPath)
	}
	if pm.Metadata.Labels["app.kubernetes.io/part-of"] != "osm" {
		t.Errorf("labels %v lack the release's", pm.Metadata.Labels)
	}

	// The selector matches an injected pod, and its port is the envoy container's.
	pod := inject.Inject(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}},
		bootstrap.Generated{Settings: bootstrap.Settings{ServiceName: "web"}, Hash: "0123456789"}, inject.DefaultProxyConfig(), inject.Traffic{})
	sel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("the selector %s does not match an injected pod's labels %v", sel, pod.Labels)
	}
	found := false
	for _, p := range inject.Sidecar(&pod.Spec).Ports {
		found = found || p.Name == pm.Spec.PodMetricsEndpoints[0].Port && p.ContainerPort == bootstrap.PrometheusPort
	}
	if !found {
		t.Errorf("the envoy container has no port %s = %d", pm.Spec.PodMetricsEndpoints[0].Port, bootstrap.PrometheusPort)
	}

	t.Run("labels and interval", func(t *testing.T) {
		r := mustRender(t, testNamespace, set("osm.prometheus.podMonitor.enabled=true",
			"osm.prometheus.podMonitor.labels.release=kube-prometheus-stack", "osm.prometheus.podMonitor.interval=30s"))
		var pm podMonitor
		r.get(podMonitorKey, &pm)
		if pm.Metadata.Labels["release"] != "kube-prometheus-stack" || pm.Metadata.Labels["app.kubernetes.io/part-of"] != "osm" {
			t.Errorf("labels %v", pm.Metadata.Labels)
		}
		if eps := pm.Spec.PodMetricsEndpoints; len(eps) != 1 || eps[0].Interval != "30s" {
			t.Errorf("endpoints %+v, want interval 30s", eps)
		}
	})

	t.Run("a bad interval is refused", func(t *testing.T) {
		if _, err := renderInstall(t, testNamespace, set("osm.prometheus.podMonitor.enabled=true", "osm.prometheus.podMonitor.interval=soon")); err == nil {
			t.Error("the chart accepts interval soon")
		}
	})
}

// TestChartSidecarCPULimit: a CPU limit in osm.sidecar.resources reaches osm-injector, which
// accepts it, and the injected envoy container carries it.
func TestChartSidecarCPULimit(t *testing.T) {
	c := injectorContainer(t, mustRender(t, testNamespace, set(
		"osm.sidecar.resources.requests.cpu=100m", "osm.sidecar.resources.limits.cpu=500m")))
	injectorAccepts(t, c.Args)
	arg, ok := argValue(c.Args, "--envoy-resources")
	if !ok {
		t.Fatalf("no --envoy-resources in %q", c.Args)
	}
	var res corev1.ResourceRequirements
	if err := json.Unmarshal([]byte(arg), &res); err != nil {
		t.Fatalf("--envoy-resources=%s: %v", arg, err)
	}
	if lim := res.Limits[corev1.ResourceCPU]; lim.String() != "500m" {
		t.Errorf("--envoy-resources=%s: CPU limit %s, want 500m", arg, lim.String())
	}
	if lim := res.Limits[corev1.ResourceMemory]; lim.String() != "512Mi" {
		t.Errorf("--envoy-resources=%s: the default memory limit is lost (%s)", arg, lim.String())
	}
	proxy := inject.DefaultProxyConfig()
	proxy.Resources = res
	pod := inject.Inject(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}},
		bootstrap.Generated{Settings: bootstrap.Settings{ServiceName: "web"}, Hash: "0123456789"}, proxy, inject.Traffic{})
	if lim := inject.Sidecar(&pod.Spec).Resources.Limits[corev1.ResourceCPU]; lim.String() != "500m" {
		t.Errorf("envoy's CPU limit %s, want 500m", lim.String())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
