package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
type ConfigReconciler struct {
	Client  client.Client
	Options ConfigOptions
	Certs   certs.Provider
	Log     logr.Logger
}

// SetupWithManager registers the reconciler with mgr.
func (r *ConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if _, err := Configuration(r.Options); err != nil {
		return fmt.Errorf("when setting up the webhook configuration controller: %w", err)
	}
	isOurs := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == ConfigurationName })
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
	if err := r.Client.Apply(ctx, cfg, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		if apierrors.IsConflict(err) && opts.ResourceVersion != "" {
			// The object changed since the cache saw it (the cainjector wrote, most likely).
			return reconcile.Result{RequeueAfter: notReadyRetry}, nil
		}
		return reconcile.Result{}, fmt.Errorf("when applying MutatingWebhookConfiguration %s: %w", ConfigurationName, err)
	}
	r.Log.V(1).Info("applied the webhook configuration", "name", ConfigurationName)
	return reconcile.Result{RequeueAfter: configResync}, nil
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
	for i := range live.Webhooks {
		if live.Webhooks[i].Name == WebhookName {
			return live.Webhooks[i].ClientConfig.CABundle
		}
	}
	return nil
}
