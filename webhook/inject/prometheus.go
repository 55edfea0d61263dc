package inject

import (
	"maps"
	"strconv"
	"strings"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Prometheus' scrape annotations, the convention of Prometheus' own example Kubernetes
// configuration (kubernetes-pods job) that many installations follow: a pod annotated
// prometheus.io/scrape "true" is scraped on prometheus.io/port at prometheus.io/path.
const (
	AnnotationPrometheusScrape = "prometheus.io/scrape"
	AnnotationPrometheusPort   = "prometheus.io/port"
	AnnotationPrometheusPath   = "prometheus.io/path"
	// prometheusAnnotationPrefix is the prefix of every such annotation (prometheus.io/scheme
	// and prometheus.io/param_* too).
	prometheusAnnotationPrefix = "prometheus.io/"
)

// PrometheusAnnotations are the annotations injection sets on a pod that has no
// prometheus.io/ annotation of its own: scrape Envoy's statistics on bootstrap.PrometheusPort
// at bootstrap.PrometheusPath. A new map.
func PrometheusAnnotations() map[string]string {
	return map[string]string{
		AnnotationPrometheusScrape: "true",
		AnnotationPrometheusPort:   strconv.Itoa(bootstrap.PrometheusPort),
		AnnotationPrometheusPath:   bootstrap.PrometheusPath,
	}
}

// hasPrometheusAnnotations reports annotations with a key under prometheus.io/: the app's own
// scrape settings, which injection leaves alone (a pod is scraped on one port; ours would
// replace the app's metrics, or mix with them into settings that mean neither).
func hasPrometheusAnnotations(ann map[string]string) bool {
	for k := range ann {
		if strings.HasPrefix(k, prometheusAnnotationPrefix) {
			return true
		}
	}
	return false
}

// ourPrometheusAnnotations reports annotations whose prometheus.io/ keys are exactly
// PrometheusAnnotations, values included: those injection set (or that point at the sidecar
// anyway), which un-injection removes.
func ourPrometheusAnnotations(ann map[string]string) bool {
	ours := PrometheusAnnotations()
	n := 0
	for k, v := range ann {
		if !strings.HasPrefix(k, prometheusAnnotationPrefix) {
			continue
		}
		if want, ok := ours[k]; !ok || want != v {
			return false
		}
		n++
	}
	return n == len(ours)
}

// withoutPrometheusAnnotations is ann without PrometheusAnnotations' keys; nil when none is
// left.
func withoutPrometheusAnnotations(ann map[string]string) map[string]string {
	ours := PrometheusAnnotations()
	maps.DeleteFunc(ann, func(k, _ string) bool { _, ok := ours[k]; return ok })
	if len(ann) == 0 {
		return nil
	}
	return ann
}
