package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

const (
	// notReadyRetry is how soon the configuration is tried again while no certificate is loaded.
	notReadyRetry = time.Second
	// configResync re-applies the configuration now and then, in case a change signal was lost.
	configResync = 10 * time.Minute
)

// ConfigReconciler keeps the MutatingWebhookConfiguration osm-injector as Configuration
// renders it, with the CA bundle of the certificate provider: at start, whenever the bundle
// changes (Provider.Changed) and whenever someone edits the object. It applies with
// server-side apply and field owner osm-injector. Run it leader-elected.
//
// caBundle is left alone, as the live object has it, when the provider publishes no bundle
// (CABundle returns nil: an outside issuer such as cert-manager, whose cainjector writes it)
// or when the live object carries InjectCAFromAnnotation (a switch to cert-manager is under
// way: an injector still in self-signed mode must not fight the cainjector). Leaving it alone
// means applying the live value back, conditional on the live resourceVersion: server-side
// apply removes a field its last owner stops applying, so merely omitting it could drop the
// bundle the injector wrote before; and the condition keeps a stale cache from overwriting a
// newer bundle (a Conflict is retried).
//
// Who creates the object, and why a deleted one stays deleted: the chart creates it, so that
// helm uninstall and osm uninstall mesh remove it, and with Create false (the chart's
// --create-webhook-configuration=false) the injector never creates it: it only patches the
// object the chart made, and waits, doing nothing, while there is none (helm install creates it
// after the Deployment; the watch then brings it here). With Create true (an injector run by
// hand without the chart) it creates the object when there is none at start. In both modes an
// object that existed and is gone was deleted on purpose (an uninstall, while replicas are
// still terminating or while an injector runs outside the cluster), and the injector does not
// bring it back: a webhook configuration that outlived the mesh would block the next helm
// install ("exists and cannot be imported") and, with failurePolicy Fail, every pod of the
// labelled namespaces. A cache can be a moment late, so an apply may still land just after a
// delete and re-create the object (server-side apply creates what is missing); the injector
// sees that in the answer (a new object with no other field manager) and deletes it again.
type ConfigReconciler struct {
	Client  client.Client
	Options ConfigOptions
	Certs   certs.Provider
	Log     logr.Logger
	// Create allows creating the configuration when it does not exist and has not existed
	// while this reconciler ran. False: the chart owns its lifecycle; only patch it.
	Create bool

	// seen is set once the configuration existed (or was created) while this reconciler ran.
	seen atomic.Bool
}

// SetupWithManager registers the reconciler with mgr.
func (r *ConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if _, err := Configuration(r.Options); err != nil {
		return fmt.Errorf("when setting up the webhook configuration controller: %w", err)
	}
	// The one object IsInjectorConfiguration accepts (by name: the watch sees every object).
	isOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return IsInjectorConfiguration(&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: o.GetName()}})
	})
	err := ctrl.NewControllerManagedBy(mgr).
		Named("webhook-configuration").
		For(&admissionregistrationv1.MutatingWebhookConfiguration{}, builder.WithPredicates(isOurs)).
		WatchesRawSource(source.Func(r.watchCA)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(true)}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("when setting up the webhook configuration controller: %w", err)
	}
	return nil
}

// watchCA queues the configuration once at start and again on every CA bundle change.
func (r *ConfigReconciler) watchCA(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	req := reconcile.Request{NamespacedName: client.ObjectKey{Name: ConfigurationName}}
	q.Add(req)
	changed := r.Certs.Changed()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-changed:
				if !ok {
					return
				}
				q.Add(req)
			}
		}
	}()
	return nil
}

// Reconcile applies the configuration.
func (r *ConfigReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	if err := r.Certs.Ready(); err != nil {
		r.Log.V(1).Info("waiting for the serving certificate before writing the webhook configuration", "reason", err.Error())
		return reconcile.Result{RequeueAfter: notReadyRetry}, nil
	}
	opts := r.Options
	opts.CABundle = r.Certs.CABundle()
	live := &admissionregistrationv1.MutatingWebhookConfiguration{}
	switch err := r.Client.Get(ctx, client.ObjectKey{Name: ConfigurationName}, live); {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("when reading MutatingWebhookConfiguration %s: %w", ConfigurationName, err)
	}
	if live != nil && live.DeletionTimestamp != nil {
		live = nil // being deleted: as good as gone
	}
	if live == nil {
		if why := r.notCreating(); why != "" {
			r.Log.Info("not creating MutatingWebhookConfiguration "+ConfigurationName, "reason", why)
			return reconcile.Result{}, nil
		}
	} else {
		r.seen.Store(true)
	}
	if why := caBundleNotOurs(opts.CABundle, live); why != "" {
		opts.CABundle = nil
		if live != nil {
			opts.CABundle = liveCABundle(live)
			opts.ResourceVersion = live.ResourceVersion
		}
		r.Log.V(1).Info("leaving caBundle as it is", "reason", why)
	}
	cfg, err := Configuration(opts)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("when rendering the webhook configuration: %w", err)
	}
	// A raw apply patch rather than Client.Apply: the typed answer carries managedFields, which
	// tell whether this apply created the object (see createdByApply).
	data, err := json.Marshal(cfg)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("when encoding the webhook configuration: %w", err)
	}
	got := &admissionregistrationv1.MutatingWebhookConfiguration{}
	got.Name = ConfigurationName
	if err := r.Client.Patch(ctx, got, client.RawPatch(types.ApplyPatchType, data), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		if apierrors.IsConflict(err) && opts.ResourceVersion != "" {
			// The object changed since the cache saw it (the cainjector wrote, most likely).
			return reconcile.Result{RequeueAfter: notReadyRetry}, nil
		}
		return reconcile.Result{}, fmt.Errorf("when applying MutatingWebhookConfiguration %s: %w", ConfigurationName, err)
	}
	if live != nil && got.UID != live.UID && createdByApply(got) {
		// The cache still showed an object someone had just deleted, and this apply created a
		// new one (not the object read, and no one else wrote it): remove it again, only that
		// very object (by UID and resourceVersion).
		return reconcile.Result{}, r.undoCreate(ctx, got)
	}
	if live == nil {
		r.seen.Store(true)
		r.Log.Info("created MutatingWebhookConfiguration "+ConfigurationName,
			"reason", "it did not exist and --create-webhook-configuration is true")
	}
	r.Log.V(1).Info("applied the webhook configuration", "name", ConfigurationName)
	return reconcile.Result{RequeueAfter: configResync}, nil
}

// notCreating says why a missing configuration must not be created, or "" to create it.
func (r *ConfigReconciler) notCreating() string {
	switch {
	case r.seen.Load():
		return "it was deleted (the mesh is being uninstalled?): the injector never brings back a webhook " +
			"configuration someone removed; it patches it again once it is installed again"
	case !r.Create:
		return "the chart creates it (--create-webhook-configuration=false): waiting for it to be installed"
	}
	return ""
}

// createdByApply reports whether an object an apply returned, other than the one the
// reconciler read, was created by that apply: a first generation whose only field manager is
// the injector. The chart's object always has Helm's manager as well.
func createdByApply(obj *admissionregistrationv1.MutatingWebhookConfiguration) bool {
	if obj.Generation != 1 || len(obj.ManagedFields) == 0 {
		return false
	}
	for _, m := range obj.ManagedFields {
		if m.Manager != FieldOwner || m.Operation != metav1.ManagedFieldsOperationApply {
			return false
		}
	}
	return true
}

// undoCreate deletes the configuration the last apply created by mistake.
func (r *ConfigReconciler) undoCreate(ctx context.Context, obj *admissionregistrationv1.MutatingWebhookConfiguration) error {
	pre := metav1.Preconditions{UID: &obj.UID, ResourceVersion: &obj.ResourceVersion}
	err := r.Client.Delete(ctx, obj, client.Preconditions(pre))
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("when deleting MutatingWebhookConfiguration %s, which the injector re-created just after "+
			"it was deleted: %w", ConfigurationName, err)
	}
	r.seen.Store(true)
	r.Log.Info("deleted MutatingWebhookConfiguration "+ConfigurationName+" again",
		"reason", "it was deleted while the injector applied it, and the apply re-created it")
	return nil
}

// caBundleNotOurs says why the injector must leave caBundle to someone else, or "".
func caBundleNotOurs(bundle []byte, live *admissionregistrationv1.MutatingWebhookConfiguration) string {
	switch {
	case len(bundle) == 0:
		return "the certificate provider publishes no CA bundle: cert-manager's cainjector writes it"
	case live != nil && live.Annotations[InjectCAFromAnnotation] != "":
		return "the configuration is annotated " + InjectCAFromAnnotation + ": cert-manager's cainjector writes it"
	}
	return ""
}

// liveCABundle is the caBundle of the injector's webhook in the live object, or nil.
func liveCABundle(live *admissionregistrationv1.MutatingWebhookConfiguration) []byte {
	if hook := InjectorHook(live); hook != nil {
		return hook.ClientConfig.CABundle
	}
	return nil
}
