package gc

import (
	"testing"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

func TestMetricsAreRegistered(t *testing.T) {
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "osm_injector_bootstrap_configmaps_deleted_total" {
			return
		}
	}
	t.Error("metric osm_injector_bootstrap_configmaps_deleted_total is not registered with controller-runtime's registry")
}
