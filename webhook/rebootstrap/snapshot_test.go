package rebootstrap

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// storeCache is a cache whose informers hand out one store (only GetInformer is called).
type storeCache struct {
	cache.Cache
	store toolscache.Store
}

func (s storeCache) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return storeInformer{store: s.store}, nil
}

// storeInformer has a store, as client-go's SharedIndexInformer (what controller-runtime's
// cache returns) has.
type storeInformer struct {
	cache.Informer
	store toolscache.Store
}

func (s storeInformer) GetStore() toolscache.Store { return s.store }

// TestReadTakesACachesObjects: from a cache, read hands out the informer store's own objects
// (no copy per pass); from another reader it lists.
func TestReadTakesACachesObjects(t *testing.T) {
	a := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "a"}}
	b := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "b"}}
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, d := range []*appsv1.Deployment{a, b} {
		if err := store.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := read(t.Context(), storeCache{store: store}, "Deployments", &appsv1.Deployment{}, &appsv1.DeploymentList{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || (got[0] != a && got[0] != b) || (got[1] != a && got[1] != b) || got[0] == got[1] {
		t.Fatalf("from a cache: %v, want the store's two objects themselves", got)
	}

	scheme := runtime.NewScheme()
	if err := appsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(a.DeepCopy(), b.DeepCopy()).Build()
	got, err = read(t.Context(), c, "Deployments", &appsv1.Deployment{}, &appsv1.DeploymentList{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, o := range got {
		if d, ok := o.(*appsv1.Deployment); ok {
			names[d.Name] = true
		}
	}
	if len(got) != 2 || !names["a"] || !names["b"] {
		t.Fatalf("from a client: %v, want Deployments a and b", got)
	}
}

// TestReadSnapshotRecords: ReadSnapshot gives the same workload records whether the reader
// is the controller's cache (its store holds the records the transform made) or a client
// that lists the objects (the CLI's).
func TestReadSnapshotRecords(t *testing.T) {
	deps, sts, ds := wholeWorkloads()
	store := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	objs := []client.Object{&sts, &ds}
	for i := range deps {
		objs = append(objs, &deps[i])
	}
	for _, o := range objs {
		rec, err := Trim(o.DeepCopyObject())
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Add(rec); err != nil {
			t.Fatal(err)
		}
	}
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	mc := &v1alpha2.MeshConfig{}
	fromCache, err := ReadSnapshot(t.Context(), kindedCache{store: store}, "", bootstrap.Tracing{}, mc)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		o.SetResourceVersion("")
		o.SetManagedFields(nil) // the fake client refuses the fixtures' bare entries
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	fromClient, err := ReadSnapshot(t.Context(), c, "", bootstrap.Tracing{}, mc)
	if err != nil {
		t.Fatal(err)
	}
	byRef := func(s *Snapshot) map[Ref]*WorkloadRecord {
		m := map[Ref]*WorkloadRecord{}
		for _, r := range s.Workloads {
			m[r.Ref()] = r
		}
		return m
	}
	if len(fromCache.Workloads) != len(objs) {
		t.Fatalf("%d records from the cache, want %d", len(fromCache.Workloads), len(objs))
	}
	// The fake client sets its own resource versions.
	if diff := cmp.Diff(byRef(fromCache), byRef(fromClient), cmpopts.IgnoreFields(metav1.ObjectMeta{}, "ResourceVersion")); diff != "" {
		t.Errorf("records (-cache +client):\n%s", diff)
	}
}

// kindedCache is a cache whose informer of each workload kind holds that kind's records of
// store, and whose pod informer is empty; namespaces are listed (none).
type kindedCache struct {
	cache.Cache
	store toolscache.Store
}

func (k kindedCache) GetInformer(_ context.Context, obj client.Object, _ ...cache.InformerGetOption) (cache.Informer, error) {
	kind := ""
	switch obj.(type) {
	case *appsv1.Deployment:
		kind = bootstrap.KindDeployment
	case *appsv1.StatefulSet:
		kind = bootstrap.KindStatefulSet
	case *appsv1.DaemonSet:
		kind = bootstrap.KindDaemonSet
	}
	s := toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)
	for _, o := range k.store.List() {
		if r, ok := o.(*WorkloadRecord); ok && r.Kind == kind {
			if err := s.Add(r); err != nil {
				return nil, err
			}
		}
	}
	return storeInformer{store: s}, nil
}

func (kindedCache) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }
