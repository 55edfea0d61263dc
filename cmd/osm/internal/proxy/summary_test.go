package proxy_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/check"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/proxy"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestSummary reads a generated bootstrap's facts (as the tracing check reads them) and the
// pod's envoy container into the summary lines.
func TestSummary(t *testing.T) {
	tr := bootstrap.Defaults("osm-system")
	tr.Enable, tr.AccessLog = true, true
	g, err := bootstrap.Generate(bootstrap.Settings{Tracing: tr, ServiceName: "bookbuyer"})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bookbuyer-1", Namespace: "bookbuyer"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "bookbuyer"}, {Name: inject.EnvoyContainerName}}}}
	pod.Labels = map[string]string{bootstrap.BootstrapHashKey: g.Hash}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == inject.EnvoyContainerName {
			pod.Spec.Containers[i].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
			}
		}
	}
	facts, err := check.ReadFacts(g.YAML)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "envoy-bootstrap-bookbuyer-" + g.Hash, Namespace: pod.Namespace}}
	got := proxy.Summary(&proxy.PodBootstrap{Pod: pod, ConfigMap: cm, YAML: g.YAML}, facts)
	for _, want := range []string{
		"pod:        " + pod.Namespace + "/" + pod.Name + "\n",
		"bootstrap:  ConfigMap envoy-bootstrap-bookbuyer-" + g.Hash + " (hash " + g.Hash + ")\n",
		"tracing:    envoy-tracing-cluster -> jaeger.osm-system.svc.cluster.local:9411, endpoint /api/v2/spans, service name bookbuyer\n",
		`observed:   inbound spans named "` + bootstrap.DefaultInboundSpanName + `", outbound spans named "` + bootstrap.DefaultOutboundSpanName +
			`", access log on, Prometheus stats on :15090/stats/prometheus` + "\n",
		"resources:  requests cpu=50m; limits memory=512Mi\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
