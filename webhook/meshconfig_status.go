package webhook

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// Condition type and reasons the injector writes on its MeshConfig.
const (
	ConditionValid       = "Valid"
	ReasonValid          = "Valid"
	ReasonInvalidTracing = "InvalidTracing"

	// StatusFieldOwner owns condition Valid (and nothing else) in the MeshConfig status.
	StatusFieldOwner = "osm-injector-meshconfig"
)

// MeshConfigStatusReconciler reports whether the injector accepts the MeshConfig's tracing
// settings, as condition Valid. When it is False, the injector keeps using the last good
// settings (see MeshSource). It writes with server-side apply under StatusFieldOwner, so it
// owns that one condition and never touches the rest of the status. Run it leader-elected.
type MeshConfigStatusReconciler struct {
	Client   client.Client
	Key      types.NamespacedName
	Defaults bootstrap.Tracing
	Log      logr.Logger
}

// SetupWithManager registers the reconciler with mgr.
func (r *MeshConfigStatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	isOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.Key.Namespace && o.GetName() == r.Key.Name
	})
	err := ctrl.NewControllerManagedBy(mgr).
		Named("meshconfig-validity").
		For(&v1alpha2.MeshConfig{}, builder.WithPredicates(isOurs)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(true)}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("when setting up the MeshConfig status controller: %w", err)
	}
	return nil
}

// Reconcile sets condition Valid for the current generation when it is not set already.
func (r *MeshConfigStatusReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	mc := &v1alpha2.MeshConfig{}
	if err := r.Client.Get(ctx, req.NamespacedName, mc); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !mc.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	conds := append([]metav1.Condition(nil), mc.Status.Conditions...)
	if !meta.SetStatusCondition(&conds, ValidityCondition(r.Defaults, mc)) {
		return reconcile.Result{}, nil
	}
	cond := meta.FindStatusCondition(conds, ConditionValid)
	if cond.Status == metav1.ConditionFalse {
		r.Log.Info("the MeshConfig is invalid; the injector keeps the last good settings",
			"meshConfig", req.NamespacedName, "generation", mc.Generation, "reason", cond.Message)
	}
	apply, err := conditionApply(mc, *cond)
	if err != nil {
		return reconcile.Result{}, err
	}
	err = r.Client.Status().Apply(ctx, apply, client.FieldOwner(StatusFieldOwner), client.ForceOwnership)
	if err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("when writing condition %s of MeshConfig %s: %w", ConditionValid, req.NamespacedName, err)
	}
	return reconcile.Result{}, nil
}

// conditionApply is the apply configuration that sets one condition of mc's status.
func conditionApply(mc *v1alpha2.MeshConfig, cond metav1.Condition) (runtime.ApplyConfiguration, error) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&cond)
	if err != nil {
		return nil, fmt.Errorf("when encoding condition %s: %w", cond.Type, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha2.GroupVersion.WithKind("MeshConfig"))
	u.SetNamespace(mc.Namespace)
	u.SetName(mc.Name)
	if err := unstructured.SetNestedSlice(u.Object, []any{raw}, "status", "conditions"); err != nil {
		return nil, fmt.Errorf("when encoding condition %s: %w", cond.Type, err)
	}
	return client.ApplyConfigurationFromUnstructured(u), nil
}

// ValidityCondition is the Valid condition for mc (LastTransitionTime is left to
// meta.SetStatusCondition).
func ValidityCondition(defaults bootstrap.Tracing, mc *v1alpha2.MeshConfig) metav1.Condition {
	cond := metav1.Condition{
		Type:               ConditionValid,
		Status:             metav1.ConditionTrue,
		Reason:             ReasonValid,
		Message:            "the injector uses these tracing settings",
		ObservedGeneration: mc.Generation,
	}
	if _, err := bootstrap.MeshTracing(defaults, &mc.Spec.Observability); err != nil {
		cond.Status = metav1.ConditionFalse
		cond.Reason = ReasonInvalidTracing
		cond.Message = err.Error() + "; the injector keeps the last good settings"
	}
	return cond
}
