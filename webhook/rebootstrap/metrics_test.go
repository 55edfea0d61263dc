package rebootstrap

import (
	"testing"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestMetricsAreRegistered: the metrics are in controller-runtime's registry without Setup
// (a vector shows once it has a value: exportSummary gives the per-state gauge its values).
func TestMetricsAreRegistered(t *testing.T) {
	exportSummary(Summary{Workloads: 2, Updated: 2}, false)
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	for _, name := range []string{
		"osm_rebootstrap_workloads",
		"osm_rebootstrap_stamp_errors_total",
		"osm_rebootstrap_failures_total",
		"osm_rebootstrap_paused",
		"osm_rebootstrap_max_concurrent_rollouts",
	} {
		if !found[name] {
			t.Errorf("metric %s is not registered with controller-runtime's registry", name)
		}
	}
}
