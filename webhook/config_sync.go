package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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
	cfg, err := Configuration(opts)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("when rendering the webhook configuration: %w", err)
	}
	if err := r.Client.Apply(ctx, cfg, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return reconcile.Result{}, fmt.Errorf("when applying MutatingWebhookConfiguration %s: %w", ConfigurationName, err)
	}
	r.Log.V(1).Info("applied the webhook configuration", "name", ConfigurationName)
	return reconcile.Result{RequeueAfter: configResync}, nil
}
