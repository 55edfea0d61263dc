package gc

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func TestReconcilerDeletesAfterTheGracePeriod(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	created := metav1.NewTime(now.Add(-time.Hour))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "envoy-bootstrap-app-h1", CreationTimestamp: created,
		Labels: map[string]string{bootstrap.ManagedByLabel: bootstrap.ManagedByValue, bootstrap.BootstrapHashKey: "h1"},
	}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "app-1", Labels: map[string]string{bootstrap.BootstrapHashKey: "h1"},
	}}
	// A pod of another namespace with the same hash does not keep it.
	elsewhere := pod.DeepCopy()
	elsewhere.Namespace = "other"
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(cm, pod, elsewhere).Build()
	r := &Reconciler{Client: c, Grace: time.Minute, Log: logr.Discard(), Now: func() time.Time { return now }}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: cm.Name}}

	if res, err := r.Reconcile(ctx, req); err != nil || res.RequeueAfter != 0 {
		t.Fatalf("referenced: want no requeue, got %+v, %v", res, err)
	}
	if err := c.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	res, err := r.Reconcile(ctx, req)
	if err != nil || res.RequeueAfter != time.Minute {
		t.Fatalf("just unreferenced: want a requeue after the grace period, got %+v, %v", res, err)
	}
	now = now.Add(time.Minute)
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); err == nil {
		t.Fatal("the ConfigMap survived the grace period")
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("a gone ConfigMap is no error: %v", err)
	}
}

// A pod the cache does not show yet (admitted a moment ago) keeps its ConfigMap: the API
// server is asked before anything is deleted.
func TestReconcilerAsksTheAPIServerBeforeDeleting(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "envoy-bootstrap-app-h1", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
		Labels: map[string]string{bootstrap.ManagedByLabel: bootstrap.ManagedByValue, bootstrap.BootstrapHashKey: "h1"},
	}}
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	cache := fake.NewClientBuilder().WithScheme(s).WithObjects(cm).Build()
	live := fake.NewClientBuilder().WithScheme(s).WithObjects(cm.DeepCopy(), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "app-new", Labels: map[string]string{bootstrap.BootstrapHashKey: "h1"},
	}}).Build()
	r := &Reconciler{Client: cache, APIReader: live, Grace: time.Minute, Log: logr.Discard(), Now: func() time.Time { return now }}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: cm.Name}}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	res, err := r.Reconcile(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Get(ctx, client.ObjectKeyFromObject(cm), &corev1.ConfigMap{}); err != nil {
		t.Fatalf("the ConfigMap of a pod only the API server knows was deleted: %v", err)
	}
	if res.RequeueAfter != time.Minute {
		t.Fatalf("want the clock restarted (requeue after the grace period), got %+v", res)
	}
}
