package scale

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// restartFleet restarts every Deployment of the fleet, maxConcurrent at a time, each worker
// taking the next one when the last it restarted has rolled out: the floor the re-bootstrap
// controller is measured against. how is "kubectl" (kubectl rollout restart, then kubectl
// rollout status, as an operator's script would) or "api" (kubectl's restart patch sent with
// client-go, completion seen through a Deployment informer: no process start per step).
func restartFleet(ctx context.Context, t *testing.T, c *framework.Cluster, cs kubernetes.Interface, how string) {
	t.Helper()
	var restart func(ns, name string) error
	switch how {
	case "kubectl":
		restart = func(ns, name string) error {
			for _, args := range [][]string{
				{"rollout", "restart", "deployment/" + name, "-n", ns},
				{"rollout", "status", "deployment/" + name, "-n", ns, "--timeout=10m"},
			} {
				if _, stderr, err := c.KubectlContext(ctx, args...); err != nil {
					return fmt.Errorf("kubectl %v: %w: %s", args, err, stderr)
				}
			}
			return nil
		}
	default:
		w := newRolloutWaiter(ctx, cs)
		restart = func(ns, name string) error {
			body := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
				time.Now().Format(time.RFC3339Nano))
			d, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{})
			if err != nil {
				return err
			}
			return w.wait(ctx, ns+"/"+name, d.Generation)
		}
	}
	if err := eachDeployment(maxConcurrent, restart); err != nil {
		t.Fatalf("restarting Deployments (%s): %v", how, err)
	}
}

// rolloutWaiter tells when a Deployment has rolled out a generation, from an informer.
type rolloutWaiter struct {
	mu      sync.Mutex
	changed *sync.Cond
	lister  cache.Indexer
}

func newRolloutWaiter(ctx context.Context, cs kubernetes.Interface) *rolloutWaiter {
	w := &rolloutWaiter{}
	w.changed = sync.NewCond(&w.mu)
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Apps().V1().Deployments().Informer()
	wake := func(any) {
		w.mu.Lock()
		w.changed.Broadcast()
		w.mu.Unlock()
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: wake, UpdateFunc: func(_, n any) { wake(n) }, DeleteFunc: wake,
	})
	w.lister = inf.GetIndexer()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	go func() { // wake the waiters when ctx ends
		<-ctx.Done()
		wake(nil)
	}()
	return w
}

func (w *rolloutWaiter) wait(ctx context.Context, key string, gen int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ctx.Err() == nil {
		obj, ok, err := w.lister.GetByKey(key)
		if err != nil {
			return err
		}
		if d, isDep := obj.(*appsv1.Deployment); ok && isDep && d.Generation >= gen && rolledOut(d) {
			return nil
		}
		w.changed.Wait()
	}
	return fmt.Errorf("waiting for %s to roll out generation %d: %w", key, gen, ctx.Err())
}
