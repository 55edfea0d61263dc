package gc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// conflictRetry is how soon a ConfigMap whose delete precondition failed is looked at again.
const conflictRetry = time.Second

// Reconciler deletes unreferenced bootstrap ConfigMaps after Grace.
type Reconciler struct {
	// Client reads the managed ConfigMaps from the manager's cache (metadata only) and
	// deletes.
	Client client.Client
	// Pods is the cache the pod watch and pod lists read (required by SetupWithManager):
	// osm-injector passes the re-bootstrap controller's, which holds every pod's metadata
	// already, so the process keeps one copy of them. It is started by its owner. Reconcile
	// alone (tests) lists pods through Client when it is nil.
	Pods cache.Cache
	// APIReader, when set, confirms with the API server that no pod uses a ConfigMap just
	// before it is deleted: the pod cache may not show yet a pod admitted a moment ago.
	APIReader client.Reader
	// Grace is how long an unreferenced ConfigMap is kept (and how old it must be).
	Grace time.Duration
	Log   logr.Logger
	// Now is time.Now unless a test says otherwise.
	Now func() time.Time

	mu    sync.Mutex
	since map[types.NamespacedName]tracked
}

type tracked struct {
	uid   types.UID
	since time.Time
}

// SetupWithManager registers the controller: it follows the managed ConfigMaps and the pods
// that carry a bootstrap hash, both metadata-only.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Grace <= 0 {
		return fmt.Errorf("when setting up the ConfigMap garbage collector: the grace period must be positive, not %s", r.Grace)
	}
	if r.Pods == nil {
		return fmt.Errorf("when setting up the ConfigMap garbage collector: no pod cache (Pods)")
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("bootstrap-configmap-gc").
		For(&corev1.ConfigMap{}, builder.OnlyMetadata, builder.WithPredicates(managedPredicate())).
		WatchesRawSource(source.Kind[client.Object](r.Pods, newMeta(bootstrap.KindPod), podHandler(r.Client), podPredicate())).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(true)}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("when setting up the ConfigMap garbage collector: %w", err)
	}
	return nil
}

// Reconcile looks at one ConfigMap.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := r.Log.WithValues("configMap", req.NamespacedName)
	cm := newMeta("ConfigMap")
	if err := r.Client.Get(ctx, req.NamespacedName, cm); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("when reading ConfigMap %s: %w", req.NamespacedName, err)
	}
	hash := cm.Labels[bootstrap.BootstrapHashKey]
	if !isManaged(cm) || cm.DeletionTimestamp != nil || hash == "" {
		// Not ours, already going, or no hash to tell who uses it: never deleted here.
		r.forget(req.NamespacedName)
		return reconcile.Result{}, nil
	}

	pods := &metav1.PartialObjectMetadataList{}
	pods.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := r.podReader().List(ctx, pods, client.InNamespace(req.Namespace),
		client.MatchingLabels{bootstrap.BootstrapHashKey: hash}); err != nil {
		return reconcile.Result{}, fmt.Errorf("when listing the pods of ConfigMap %s: %w", req.NamespacedName, err)
	}

	d := Decide(Observation{
		Now:               r.now(),
		Created:           cm.CreationTimestamp.Time,
		Referenced:        len(pods.Items) > 0,
		UnreferencedSince: r.recall(req.NamespacedName, cm.UID),
		Grace:             r.Grace,
	})
	r.remember(req.NamespacedName, cm.UID, d.UnreferencedSince)
	if !d.Delete {
		return reconcile.Result{RequeueAfter: d.RequeueAfter}, nil
	}
	if used, err := r.usedLive(ctx, req.Namespace, hash); err != nil || used {
		if used {
			// The cache was behind: the ConfigMap is in use after all; start its clock again.
			r.forget(req.NamespacedName)
			return reconcile.Result{RequeueAfter: r.Grace}, nil
		}
		return reconcile.Result{}, err
	}
	return r.delete(ctx, log, cm, d.UnreferencedSince)
}

// podReader is the cache pods are read from.
func (r *Reconciler) podReader() client.Reader {
	if r.Pods != nil {
		return r.Pods
	}
	return r.Client
}

// usedLive asks the API server (not the cache) whether a pod in ns carries hash.
func (r *Reconciler) usedLive(ctx context.Context, ns, hash string) (bool, error) {
	if r.APIReader == nil {
		return false, nil
	}
	pods := &metav1.PartialObjectMetadataList{}
	pods.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	if err := r.APIReader.List(ctx, pods, client.InNamespace(ns),
		client.MatchingLabels{bootstrap.BootstrapHashKey: hash}, client.Limit(1)); err != nil {
		return false, fmt.Errorf("when confirming that no pod in %s uses bootstrap %s: %w", ns, hash, err)
	}
	return len(pods.Items) > 0, nil
}

func (r *Reconciler) delete(ctx context.Context, log logr.Logger, cm *metav1.PartialObjectMetadata, since time.Time) (reconcile.Result, error) {
	key := client.ObjectKeyFromObject(cm)
	err := r.Client.Delete(ctx, cm, client.Preconditions{UID: ptr.To(cm.UID), ResourceVersion: ptr.To(cm.ResourceVersion)})
	switch {
	case apierrors.IsNotFound(err):
		r.forget(key)
		return reconcile.Result{}, nil
	case apierrors.IsConflict(err):
		// Changed or recreated since the cache saw it: look again with fresh eyes.
		r.forget(key)
		return reconcile.Result{RequeueAfter: conflictRetry}, nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("when deleting ConfigMap %s: %w", key, err)
	}
	r.forget(key)
	configMapsDeleted.Inc()
	log.Info("deleted an unreferenced bootstrap ConfigMap", "unreferencedSince", since.UTC().Format(time.RFC3339), "grace", r.Grace.String())
	return reconcile.Result{}, nil
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) recall(key types.NamespacedName, uid types.UID) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.since[key]; ok && t.uid == uid {
		return t.since
	}
	return time.Time{}
}

func (r *Reconciler) remember(key types.NamespacedName, uid types.UID, since time.Time) {
	if since.IsZero() {
		r.forget(key)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since == nil {
		r.since = map[types.NamespacedName]tracked{}
	}
	r.since[key] = tracked{uid: uid, since: since}
}

func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.since, key)
}

func newMeta(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}
