package rebootstrap

import (
	"context"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// heals), only the followed MeshConfig, and every object trimmed to what the planner reads,
// to keep memory flat with thousands of workloads. Setup starts it on the leader.
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
		DefaultTransform: trim,
	})
	if err != nil {
		return nil, fmt.Errorf("when creating the re-bootstrap cache: %w", err)
	}
	return c, nil
}

// trim drops what the planner never reads (Collect and the rollout readers; TestTrim holds
// them equal on trimmed and whole objects): managed fields, kubectl's last-applied copy, a
// workload's own labels, owners and finalizers, its selector and other spec fields, of its
// pod template everything but the metadata and hostNetwork, and of its status the conditions
// other than Progressing. With thousands of workloads this is most of their memory.
func trim(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		if ann := m.GetAnnotations(); ann[lastApplied] != "" {
			delete(ann, lastApplied)
			m.SetAnnotations(ann)
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		trimWorkloadMeta(&o.ObjectMeta)
		trimTemplate(&o.Spec.Template)
		o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas, Paused: o.Spec.Paused, Template: o.Spec.Template}
		o.Status.Conditions = slices.DeleteFunc(o.Status.Conditions, func(c appsv1.DeploymentCondition) bool {
			return c.Type != appsv1.DeploymentProgressing
		})
	case *appsv1.StatefulSet:
		trimWorkloadMeta(&o.ObjectMeta)
		trimTemplate(&o.Spec.Template)
		o.Spec = appsv1.StatefulSetSpec{Replicas: o.Spec.Replicas, UpdateStrategy: o.Spec.UpdateStrategy, Template: o.Spec.Template}
		o.Status.Conditions = nil
	case *appsv1.DaemonSet:
		trimWorkloadMeta(&o.ObjectMeta)
		trimTemplate(&o.Spec.Template)
		o.Spec = appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: o.Spec.UpdateStrategy.Type}, Template: o.Spec.Template}
		o.Status.Conditions = nil
	}
	return obj, nil
}

// trimWorkloadMeta drops what a workload's own metadata holds for others: the planner reads
// its name, UID, generation, deletion and annotations.
func trimWorkloadMeta(m *metav1.ObjectMeta) {
	m.Labels, m.OwnerReferences, m.Finalizers = nil, nil, nil
}

func trimTemplate(t *corev1.PodTemplateSpec) {
	t.Spec = corev1.PodSpec{HostNetwork: t.Spec.HostNetwork}
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
