package webhook

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// TestHandlerGeneratesThroughTheGivenCache: the handler generates bootstraps through the
// bootstrap.Cache it is given (osm-injector shares one with the re-bootstrap controller).
func TestHandlerGeneratesThroughTheGivenCache(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(ns).Build()
	shared := bootstrap.NewCache(0)
	h, err := NewHandler(HandlerOptions{
		Cache: c, Writer: c, ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config",
		Bootstraps: shared, Log: logr.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if resp := h.Handle(context.Background(), podRequest(t, nil, false)); !resp.Allowed || len(resp.Patches) == 0 {
			t.Fatalf("want an allowed response with a patch, got %+v", resp.Result)
		}
	}
	if n := shared.Len(); n != 1 {
		t.Errorf("the shared cache holds %d bootstraps after two admissions of one pod, want 1", n)
	}
}
