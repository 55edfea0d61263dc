package webhook

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// The API server calls the webhook only for labelled namespaces, so a cache that has not yet
// seen the label (osm namespace add an instant ago) must not make the pod start untraced.
func TestHandlerReadsANamespaceTheCacheShowsUnlabelled(t *testing.T) {
	stale := fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithObjects(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}}).Build()
	live := fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithObjects(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: testNS, Labels: map[string]string{bootstrap.InjectionLabel: inject.InjectionEnabled},
		}}).Build()
	var seen inject.Namespace
	h, err := NewHandler(HandlerOptions{
		Cache: stale, APIReader: live, Writer: live,
		ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config", Log: logr.Discard(),
		Mutate: func(pod *corev1.Pod, ns inject.Namespace, env inject.Env) (inject.Result, error) {
			seen = ns
			return fakeMutate(pod, ns, env)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := h.Handle(context.Background(), podRequest(t, nil, false))
	if !resp.Allowed || len(resp.Patches) == 0 {
		t.Fatalf("want the pod injected, got allowed=%v patches=%d (%+v)", resp.Allowed, len(resp.Patches), resp.Result)
	}
	if seen.Labels[bootstrap.InjectionLabel] != inject.InjectionEnabled {
		t.Fatalf("the injector saw the cache's stale namespace (labels %v), not the API server's", seen.Labels)
	}
}

// A never-injected namespace (here the control plane's) is never by its name: however the
// API server came to send its pod, the handler does not read it again from the API server.
func TestHandlerDoesNotReadANeverInjectedNamespace(t *testing.T) {
	cache := fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithObjects(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: testNS, Labels: inject.MeshNamespaceLabels(),
		}}).Build()
	reads := 0
	live := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			reads++
			return c.Get(ctx, key, obj, opts...)
		},
	}).Build()
	h, err := NewHandler(HandlerOptions{
		Cache: cache, APIReader: live, Writer: live,
		ControlPlaneNamespace: testNS, MeshConfigName: "osm-mesh-config", Log: logr.Discard(),
		Mutate: inject.Mutate,
	})
	if err != nil {
		t.Fatal(err)
	}
	resp := h.Handle(context.Background(), podRequest(t, nil, false))
	if !resp.Allowed || len(resp.Patches) != 0 {
		t.Fatalf("want the pod admitted as it is, got allowed=%v patches=%d (%+v)", resp.Allowed, len(resp.Patches), resp.Result)
	}
	if reads != 0 {
		t.Errorf("the handler read from the API server %d times for a never-injected namespace", reads)
	}
}
