package inject_test

import (
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

var ourScrape = map[string]string{
	"prometheus.io/scrape": "true",
	"prometheus.io/port":   "15090",
	"prometheus.io/path":   "/stats/prometheus",
}

// TestPrometheusAnnotations: a pod without prometheus.io/ annotations gets ours, pointing at
// the sidecar's statistics; a pod with any of its own keeps exactly its own.
func TestPrometheusAnnotations(t *testing.T) {
	g := fakeGenerated("web", "0123456789")
	tests := map[string]struct {
		ann, want map[string]string
	}{
		"none":                   {want: ourScrape},
		"other annotations":      {ann: map[string]string{"note": "x"}, want: map[string]string{"note": "x", "prometheus.io/scrape": "true", "prometheus.io/port": "15090", "prometheus.io/path": "/stats/prometheus"}},
		"the app's own":          {ann: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9102"}, want: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9102"}},
		"the app's scheme alone": {ann: map[string]string{"prometheus.io/scheme": "https"}, want: map[string]string{"prometheus.io/scheme": "https"}},
		"scraping turned off":    {ann: map[string]string{"prometheus.io/scrape": "false"}, want: map[string]string{"prometheus.io/scrape": "false"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := appPod("shop", func(p *corev1.Pod) { p.Annotations = maps.Clone(tc.ann) })
			got := inject.Inject(pod, g, inject.DefaultProxyConfig(), inject.Traffic{})
			if !maps.Equal(got.Annotations, tc.want) {
				t.Errorf("annotations %v, want %v", got.Annotations, tc.want)
			}
			add := inject.Parts(pod, g, inject.DefaultProxyConfig(), inject.Traffic{})
			if own := len(tc.want) != len(tc.ann)+3; own != (add.Annotations == nil) {
				t.Errorf("Parts' annotations %v", add.Annotations)
			}
			if back := inject.Uninject(got); !maps.Equal(back.Annotations, tc.ann) {
				t.Errorf("Uninject left annotations %v, want %v", back.Annotations, tc.ann)
			}
		})
	}
	if !maps.Equal(inject.PrometheusAnnotations(), ourScrape) {
		t.Errorf("PrometheusAnnotations() = %v", inject.PrometheusAnnotations())
	}
}

// TestEnvoyEnv: the resource attributes come after the variables they refer to, since
// Kubernetes expands $(VAR) only from variables defined earlier in the list.
func TestEnvoyEnv(t *testing.T) {
	got := inject.Inject(appPod("shop"), fakeGenerated("web", "0123456789"), inject.DefaultProxyConfig(), inject.Traffic{})
	envoy := inject.Sidecar(&got.Spec)
	var names []string
	for _, e := range envoy.Env {
		names = append(names, e.Name)
	}
	want := []string{bootstrap.EnvPodName, bootstrap.EnvPodNamespace, bootstrap.EnvNodeName, bootstrap.EnvResourceAttributes}
	if !slices.Equal(names, want) {
		t.Fatalf("envoy's env %v, want %v", names, want)
	}
	attrs := envoy.Env[3]
	if attrs.Value != bootstrap.ResourceAttributesValue() || attrs.ValueFrom != nil {
		t.Errorf("%s = %+v, want the value %q", attrs.Name, attrs, bootstrap.ResourceAttributesValue())
	}
	// Every $(VAR) it refers to is defined before it.
	for _, ref := range []string{bootstrap.EnvPodName, bootstrap.EnvPodNamespace, bootstrap.EnvNodeName} {
		if !slices.Contains(names[:3], ref) || !containsRef(attrs.Value, ref) {
			t.Errorf("%s does not refer to %s defined before it: %q", attrs.Name, ref, attrs.Value)
		}
	}
}

func containsRef(s, name string) bool {
	return len(s) > 0 && slices.Contains(splitRefs(s), name)
}

// splitRefs are the names of the $(NAME) references in s.
func splitRefs(s string) []string {
	var out []string
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '(' {
			end := i + 2
			for end < len(s) && s[end] != ')' {
				end++
			}
			out = append(out, s[i+2:end])
			i = end
		}
	}
	return out
}
