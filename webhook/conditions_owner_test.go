package webhook_test

import (
	"errors"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// TestEachMeshConfigConditionHasOneWriter: the two controllers that write the MeshConfig
// status with server-side apply (the validity reconciler and the re-bootstrap controller)
// write disjoint condition types under distinct field managers, so neither takes over or
// clears the other's condition.
func TestEachMeshConfigConditionHasOneWriter(t *testing.T) {
	if webhook.StatusFieldOwner == rebootstrap.FieldOwner {
		t.Fatalf("both status writers apply as field manager %q", webhook.StatusFieldOwner)
	}
	defaults := bootstrap.Defaults("osm-system")
	valid := &v1alpha2.MeshConfig{}
	invalid := &v1alpha2.MeshConfig{Spec: v1alpha2.MeshConfigSpec{Observability: v1alpha2.ObservabilitySpec{
		Tracing: v1alpha2.TracingSpec{Port: ptr.To[int32](0)},
	}}}
	writer := map[string]string{}
	claim := func(who, conditionType string) {
		if other, ok := writer[conditionType]; ok && other != who {
			t.Errorf("condition %s is written by %s and by %s", conditionType, other, who)
		}
		writer[conditionType] = who
	}
	for _, mc := range []*v1alpha2.MeshConfig{valid, invalid} {
		claim(webhook.StatusFieldOwner, webhook.ValidityCondition(defaults, mc).Type)
	}
	for _, sum := range []rebootstrap.Summary{{}, {Workloads: 1, Pending: 1}, {Workloads: 1, Failed: 1, FailedWorkloads: []string{"a"}}} {
		for _, c := range rebootstrap.Conditions(sum, "t", 1, 1, "") {
			claim(rebootstrap.FieldOwner, c.Type)
		}
	}
	for _, c := range rebootstrap.InvalidConditions(errors.New("bad port"), 1) {
		claim(rebootstrap.FieldOwner, c.Type)
	}
	if len(writer) != 3 {
		t.Errorf("condition writers %v, want Valid, Progressing and Degraded", writer)
	}
}
