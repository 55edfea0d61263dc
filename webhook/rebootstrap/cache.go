package rebootstrap

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// lastApplied is kubectl's copy of the applied manifest: large, and never read here.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// NewCache builds the controller's own cache (Options.Cache): pods as metadata only (all of
// them: those without the bootstrap-hash label run without the sidecar, which the controller
// heals), only the followed MeshConfig, and workloads as their records (see Trim), to keep
// memory flat with thousands of workloads. Setup starts it on the leader.
//
// Its informers for Deployments, StatefulSets and DaemonSets hold *WorkloadRecord, not the
// typed objects: read them with ReadSnapshot (a Get or List of those kinds through this
// cache fails with a type error).
func NewCache(mgr manager.Manager, opts Options) (cache.Cache, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient: mgr.GetHTTPClient(),
		Scheme:     mgr.GetScheme(),
		Mapper:     mgr.GetRESTMapper(),
		ByObject: map[client.Object]cache.ByObject{
			&v1alpha2.MeshConfig{}: {
				Namespaces: map[string]cache.Config{opts.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", opts.MeshConfigName),
			},
		},
		DefaultTransform: Trim,
	})
	if err != nil {
		return nil, fmt.Errorf("when creating the re-bootstrap cache: %w", err)
	}
	return c, nil
}

// Trim is the transform of the injector's caches. A Deployment, StatefulSet or DaemonSet
// becomes its WorkloadRecord (RecordOf): with thousands of workloads the objects are most of
// the controller's memory. Of any other object (pod and ConfigMap metadata, namespaces, the
// MeshConfig) it compacts the metadata (TrimMeta).
func Trim(obj any) (any, error) {
	if r, ok := RecordOf(obj); ok {
		return r, nil
	}
	return TrimMeta(obj)
}

// TrimMeta is a cache transform that keeps every object's type: it drops from the metadata
// what nothing here reads (managed fields, kubectl's last-applied copy) and shares the
// strings thousands of objects repeat (namespace, label and annotation keys, owner kinds).
// osm-injector's manager cache (the webhook's) uses it.
func TrimMeta(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		compactMeta(m)
	}
	return obj, nil
}

// leaderOnly runs the cache on the leader only: the other replicas serve the webhook and
// need none of it.
type leaderOnly struct{ c cache.Cache }

func (l leaderOnly) Start(ctx context.Context) error { return l.c.Start(ctx) }

func (l leaderOnly) NeedLeaderElection() bool { return true }

// enqueue maps every event to the single work item, after delay.
type enqueue struct {
	key   types.NamespacedName
	delay func() time.Duration // nil: at once
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func (e enqueue) add(q queue) {
	req := reconcile.Request{NamespacedName: e.key}
	if e.delay != nil {
		q.AddAfter(req, e.delay())
		return
	}
	q.Add(req)
}

func (e enqueue) Create(_ context.Context, _ event.CreateEvent, q queue)   { e.add(q) }
func (e enqueue) Update(_ context.Context, _ event.UpdateEvent, q queue)   { e.add(q) }
func (e enqueue) Delete(_ context.Context, _ event.DeleteEvent, q queue)   { e.add(q) }
func (e enqueue) Generic(_ context.Context, _ event.GenericEvent, q queue) { e.add(q) }

// podChanged passes pod updates that matter to the planner: labels, annotations, owners or
// the start of termination (a pod's metadata changes with every status update otherwise).
type podChanged struct {
	predicate.Funcs
}

func (podChanged) Update(e event.UpdateEvent) bool {
	o, n := e.ObjectOld, e.ObjectNew
	if o == nil || n == nil {
		return true
	}
	return !equality.Semantic.DeepEqual(o.GetLabels(), n.GetLabels()) ||
		!equality.Semantic.DeepEqual(o.GetAnnotations(), n.GetAnnotations()) ||
		!equality.Semantic.DeepEqual(o.GetOwnerReferences(), n.GetOwnerReferences()) ||
		(o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil)
}
