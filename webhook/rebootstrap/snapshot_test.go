package rebootstrap

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
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
	items := func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }
	got, err := read(t.Context(), storeCache{store: store}, "Deployments", &appsv1.Deployment{}, &appsv1.DeploymentList{}, items)
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
	got, err = read(t.Context(), c, "Deployments", &appsv1.Deployment{}, &appsv1.DeploymentList{}, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name == got[1].Name {
		t.Fatalf("from a client: %v, want a and b", got)
	}
}
