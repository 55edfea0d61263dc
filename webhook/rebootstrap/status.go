package rebootstrap

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// report writes the status, emits the Events the change calls for and sets the gauges.
func (r *Reconciler) report(ctx context.Context, mc *v1alpha2.MeshConfig, target string, sum Summary,
	ds []Decision, hold string,
) error {
	conds := Conditions(sum, target, mc.Generation, r.Options.MaxConcurrent, hold)
	r.meshEvents(mc, target, sum)
	r.decisionEvents(mc, ds)
	exportSummary(sum, sum.Failed > 0)
	return r.writeStatus(ctx, mc, sum.Status(target), conds)
}

// reportInvalid reports refused tracing settings: the conditions say so, the re-bootstrap
// counts stay as they were.
func (r *Reconciler) reportInvalid(ctx context.Context, mc *v1alpha2.MeshConfig, cause error) error {
	r.invalidMeshEvent(mc, cause)
	return r.writeStatus(ctx, mc, mc.Status.Rebootstrap, InvalidConditions(cause, mc.Generation))
}

// writeStatus applies the controller's part of the MeshConfig status (observedGeneration,
// the Progressing and Degraded conditions, rebootstrap) with server-side apply as
// FieldOwner, leaving the conditions of other writers alone. Nothing is written when the
// cached status already says it.
func (r *Reconciler) writeStatus(ctx context.Context, mc *v1alpha2.MeshConfig, st *v1alpha2.RebootstrapStatus,
	conds []metav1.Condition,
) error {
	merged := make([]metav1.Condition, len(mc.Status.Conditions))
	copy(merged, mc.Status.Conditions)
	now := metav1.NewTime(r.now())
	mine := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		c.LastTransitionTime = now
		meta.SetStatusCondition(&merged, c)
		mine = append(mine, *meta.FindStatusCondition(merged, c.Type))
	}
	if mc.Status.ObservedGeneration == mc.Generation && equality.Semantic.DeepEqual(mc.Status.Rebootstrap, st) &&
		sameConditions(mc.Status.Conditions, mine) {
		return nil
	}
	u, err := statusApplyObject(mc, st, mine)
	if err != nil {
		return err
	}
	err = r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldOwner), client.ForceOwnership)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("when writing the status of MeshConfig %s: %w", r.Key, err)
	}
	return nil
}

// sameConditions reports whether every condition of want is in have, equal.
func sameConditions(have, want []metav1.Condition) bool {
	for _, w := range want {
		h := meta.FindStatusCondition(have, w.Type)
		if h == nil || h.Status != w.Status || h.Reason != w.Reason || h.Message != w.Message ||
			h.ObservedGeneration != w.ObservedGeneration || !h.LastTransitionTime.Equal(&w.LastTransitionTime) {
			return false
		}
	}
	return true
}

// statusApplyObject is the apply configuration of the status: only the fields this
// controller owns.
func statusApplyObject(mc *v1alpha2.MeshConfig, st *v1alpha2.RebootstrapStatus, conds []metav1.Condition) (*unstructured.Unstructured, error) {
	status := map[string]any{"observedGeneration": mc.Generation}
	list := make([]any, 0, len(conds))
	for i := range conds {
		c, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&conds[i])
		if err != nil {
			return nil, fmt.Errorf("when encoding condition %s: %w", conds[i].Type, err)
		}
		list = append(list, c)
	}
	status["conditions"] = list
	if st != nil {
		rb, err := runtime.DefaultUnstructuredConverter.ToUnstructured(st)
		if err != nil {
			return nil, fmt.Errorf("when encoding the re-bootstrap status: %w", err)
		}
		status["rebootstrap"] = rb
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha2.GroupVersion.String(),
		"kind":       "MeshConfig",
		"metadata":   map[string]any{"name": mc.Name, "namespace": mc.Namespace},
		"status":     status,
	}}, nil
}
