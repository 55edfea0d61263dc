package webhook

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// TestEnsureSharesOneCreate: concurrent callers for one ConfigMap share one Create, only the
// caller that ran it reports created, and a waiter whose request ends stops waiting.
func TestEnsureSharesOneCreate(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var creates atomic.Int32
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if creates.Add(1) == 1 {
				close(entered)
				<-release
			}
			return c.Create(ctx, obj, opts...)
		},
	}).Build()
	e := newConfigMapEnsurer(c, c, 0)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "bootstrap-abc"}}

	var leaderCreated bool
	var leaderErr error
	var wg sync.WaitGroup
	wg.Go(func() { leaderCreated, leaderErr = e.ensure(context.Background(), cm) })
	<-entered

	// The object does not exist yet, so these reach the shared Create.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.ensure(ctx, cm); !errors.Is(err, errWaitCancelled) {
		t.Errorf("a waiter whose request ended: got %v, want errWaitCancelled", err)
	}
	// This one either shares the Create or, if it comes late, finds the object.
	var waiterCreated bool
	var waiterErr error
	wg.Go(func() { waiterCreated, waiterErr = e.ensure(context.Background(), cm) })
	close(release)
	wg.Wait()

	if n := creates.Load(); n != 1 {
		t.Errorf("%d Creates, want 1", n)
	}
	if leaderErr != nil || !leaderCreated {
		t.Errorf("the caller that created: created=%v err=%v, want true, nil", leaderCreated, leaderErr)
	}
	if waiterErr != nil || waiterCreated {
		t.Errorf("a caller that shared the create: created=%v err=%v, want false, nil", waiterCreated, waiterErr)
	}
}
