package rebootstrap

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// DefaultMaxConcurrent is the rollout bound when Options.MaxConcurrent is zero: the one
// default of --max-concurrent-rollouts (osm-injector's flag, the chart's
// osm.injector.maxConcurrentRollouts and osm proxy rollout's preview all take it from here).
// Two workloads at a time keeps a MeshConfig change from restarting much of a cluster at once.
const DefaultMaxConcurrent = 2

// DefaultSettleDelay is Options.SettleDelay when zero.
const DefaultSettleDelay = time.Second

// workloadBatch is the least delay of the reconcile a workload or pod event asks for, so that
// a burst of events (a rollout touches a workload, its ReplicaSets and pods many times) costs
// one pass. It is short because a rollout that ends frees a slot for the next workload, and
// each wait here adds to every slot's turn (1,000 workloads at 50 at a time are 20 turns).
const workloadBatch = 100 * time.Millisecond

// ControllerName names the controller (logs, metrics of controller-runtime).
const ControllerName = "rebootstrap"

// Options configure the re-bootstrap controller.
type Options struct {
	// Namespace is the control-plane namespace: it holds the MeshConfig and is never injected
	// (default bootstrap.DefaultNamespace).
	Namespace string
	// MeshConfigName names the MeshConfig followed (default bootstrap.DefaultMeshConfigName).
	MeshConfigName string
	// MaxConcurrent bounds the workloads rolling at once (--max-concurrent-rollouts; default
	// DefaultMaxConcurrent; negative is an error).
	MaxConcurrent int
	// Defaults is the layer under the MeshConfig, as the webhook uses it.
	Defaults bootstrap.Tracing
	// SettleDelay holds new rollouts back after the tracing settings change (default
	// DefaultSettleDelay; negative: no delay).
	SettleDelay time.Duration
	// Bootstraps memoises bootstrap generation: osm-injector passes the admission handler's,
	// so the process keeps one memo. Nil means a cache of the controller's own.
	Bootstraps *bootstrap.Cache
	// HealReady reports whether the webhook can inject now (it serves, and its caBundle is in
	// place): workloads whose pods run without the sidecar are healed (rolled) only while it
	// returns nil, else they are reported uninjected and the error says why. Nil: always
	// ready. Ordinary rollouts do not wait for it.
	HealReady func() error
	// Cache is the cache the controller reads, made with NewCache; nil makes one. Setup adds
	// it to the manager either way (it runs on the leader only). osm-injector makes it first,
	// so that the ConfigMap garbage collector reads pods from it too and the process keeps
	// one copy of the pods' metadata.
	Cache cache.Cache
}

func (o Options) withDefaults() (Options, error) {
	if o.Namespace == "" {
		o.Namespace = bootstrap.DefaultNamespace
	}
	if o.MeshConfigName == "" {
		o.MeshConfigName = bootstrap.DefaultMeshConfigName
	}
	switch {
	case o.MaxConcurrent < 0:
		return o, fmt.Errorf("when setting up the re-bootstrap controller: max concurrent rollouts is %d, "+
			"it must be at least 1", o.MaxConcurrent)
	case o.MaxConcurrent == 0:
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	switch {
	case o.SettleDelay == 0:
		o.SettleDelay = DefaultSettleDelay
	case o.SettleDelay < 0:
		o.SettleDelay = 0
	}
	if o.Defaults == (bootstrap.Tracing{}) {
		o.Defaults = bootstrap.Defaults(o.Namespace)
	}
	return o, nil
}

// NewScheme returns a scheme with the built-in types and the MeshConfig types: what Setup's
// manager and a reader given to ReadSnapshot must know.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha2.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("when building the scheme: %w", err)
		}
	}
	return s, nil
}

// Setup adds the re-bootstrap controller to mgr: a cache of its own that runs only on the
// leader (the records of Deployments, StatefulSets and DaemonSets, the metadata of all pods,
// namespaces, the MeshConfig), and a leader-elected
// controller with a single work item. mgr's scheme must hold the built-in types and the
// MeshConfig types (v1alpha2.AddToScheme). Call it before mgr.Start.
func Setup(mgr manager.Manager, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	// The scheme is not amended here: it may be shared (client-go's global one) and read by
	// running informers, so adding types now would race with them.
	if !mgr.GetScheme().Recognizes(v1alpha2.GroupVersion.WithKind("MeshConfig")) {
		return fmt.Errorf("when setting up the re-bootstrap controller: the manager's scheme lacks %s MeshConfig "+
			"(add v1alpha2.AddToScheme to it)", v1alpha2.GroupVersion)
	}
	rolloutSlotsGauge.Set(float64(opts.MaxConcurrent))
	c := opts.Cache
	if c == nil {
		if c, err = NewCache(mgr, opts); err != nil {
			return err
		}
	}
	if err := mgr.Add(leaderOnly{c}); err != nil {
		return fmt.Errorf("when adding the re-bootstrap cache to the manager: %w", err)
	}
	key := types.NamespacedName{Namespace: opts.Namespace, Name: opts.MeshConfigName}
	r := &Reconciler{
		Reader:   c,
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder(EventSource),
		Key:      key,
		Options:  opts,
		Log:      mgr.GetLogger().WithName(ControllerName),
		hasher:   Hasher{Bootstraps: opts.Bootstraps},
	}
	now := enqueue{key: key}
	later := enqueue{key: key, delay: r.batchDelay}
	isOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == key.Namespace && o.GetName() == key.Name
	})
	nsChanged := predicate.Or[client.Object](predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{})
	err = ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		WatchesRawSource(source.Kind[client.Object](c, &v1alpha2.MeshConfig{}, now, isOurs)).
		WatchesRawSource(source.Kind[client.Object](c, &corev1.Namespace{}, now, nsChanged)).
		WatchesRawSource(source.Kind[client.Object](c, &appsv1.Deployment{}, later)).
		WatchesRawSource(source.Kind[client.Object](c, &appsv1.StatefulSet{}, later)).
		WatchesRawSource(source.Kind[client.Object](c, &appsv1.DaemonSet{}, later)).
		WatchesRawSource(source.Kind[client.Object](c, podMetadata(), later, podChanged{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(true)}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("when setting up the re-bootstrap controller: %w", err)
	}
	return nil
}
