package webhook

import (
	"testing"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

func TestMetricsAreRegistered(t *testing.T) {
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	for _, name := range []string{
		"osm_injector_admissions_total",
		"osm_injector_admission_duration_seconds",
		"osm_injector_bootstrap_configmaps_created_total",
	} {
		if !found[name] {
			t.Errorf("metric %s is not registered with controller-runtime's registry", name)
		}
	}
}
