package rebootstrap

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// listOnly tells the reflector to list then watch (the fake watch below sends no
// initial-events bookmark).
type listOnly struct{}

func (listOnly) IsWatchListSemanticsUnSupported() bool { return true }

// TestInformerPassesRecordUpdates runs client-go's informer with Trim as its transform, as
// NewCache sets it: the store holds records, and every change of a workload reaches the
// handlers as an update. An informer takes an update that keeps the resource version for a
// resync, which a handler sees only when its own resync is due: a record without its
// resource version would silence every workload update (a pause, an opt-out, a failed
// rollout) once the informer first checked for resyncs.
func TestInformerPassesRecordUpdates(t *testing.T) {
	fw := watch.NewFake()
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return &appsv1.DeploymentList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) { return fw, nil },
	}
	// The informer checks for due resyncs every 10ms; the handler's own period is long, as
	// controller-runtime's (hours): from the first check on, an update the informer takes for
	// a resync is not passed to it.
	inf := toolscache.NewSharedIndexInformer(toolscache.ToListWatcherWithWatchListSemantics(lw, listOnly{}),
		&appsv1.Deployment{}, 10*time.Millisecond, toolscache.Indexers{})
	if err := inf.SetTransform(Trim); err != nil {
		t.Fatal(err)
	}
	updates := make(chan any, 10)
	if _, err := inf.AddEventHandlerWithResyncPeriod(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { updates <- obj },
	}, time.Hour); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	if !toolscache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("the informer did not sync")
	}

	d := dep("app", "web", nil)
	d.ResourceVersion = "2"
	fw.Add(d.DeepCopy())
	time.Sleep(100 * time.Millisecond) // a few resync checks
	d.ResourceVersion, d.Spec.Paused = "3", true
	fw.Modify(d.DeepCopy())
	select {
	case obj := <-updates:
		r, ok := obj.(*WorkloadRecord)
		if !ok || r.Blocked != "the Deployment is paused" || r.ResourceVersion != "3" {
			t.Fatalf("update %#v, want the record of the paused Deployment at version 3", obj)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler saw no update of the Deployment: the informer took it for a resync")
	}
	stored, ok := inf.GetStore().List()[0].(*WorkloadRecord)
	if !ok || stored.Blocked == "" {
		t.Errorf("the store holds %#v, want the paused Deployment's record", inf.GetStore().List()[0])
	}
}
