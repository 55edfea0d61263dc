package webhook

import (
	"context"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func TestMeshSourceKeepsTheLastGoodSettings(t *testing.T) {
	ctx := context.Background()
	key := types.NamespacedName{Namespace: "osm-system", Name: "osm-mesh-config"}
	mc := &v1alpha2.MeshConfig{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	mc.Spec.Observability.Tracing = v1alpha2.TracingSpec{Enable: ptr.To(true), Port: ptr.To[int32](9411)}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(mc).Build()
	src := &MeshSource{Reader: c, Key: key, Defaults: bootstrap.Defaults("osm-system"), Log: logr.Discard()}

	got, err := src.Current(ctx)
	if err != nil || got == nil || got.Tracing.Port == nil || *got.Tracing.Port != 9411 {
		t.Fatalf("want the valid spec, got %+v, %v", got, err)
	}

	// An invalid spec (the API server's schema would refuse it; the injector must not trust that).
	if err := c.Get(ctx, key, mc); err != nil {
		t.Fatal(err)
	}
	mc.Spec.Observability.Tracing.Port = ptr.To[int32](70000)
	if err := c.Update(ctx, mc); err != nil {
		t.Fatal(err)
	}
	got, err = src.Current(ctx)
	if err != nil || got == nil || *got.Tracing.Port != 9411 {
		t.Fatalf("want the last good spec (port 9411) after an invalid update, got %+v, %v", got, err)
	}

	// A valid change is taken.
	mc.Spec.Observability.Tracing.Port = ptr.To[int32](9412)
	if err := c.Update(ctx, mc); err != nil {
		t.Fatal(err)
	}
	if got, _ = src.Current(ctx); got == nil || *got.Tracing.Port != 9412 {
		t.Fatalf("want port 9412, got %+v", got)
	}

	// No MeshConfig: defaults.
	if err := c.Delete(ctx, mc); err != nil {
		t.Fatal(err)
	}
	if got, err = src.Current(ctx); got != nil || err != nil {
		t.Fatalf("want nil without a MeshConfig, got %+v, %v", got, err)
	}
}

func TestValidityCondition(t *testing.T) {
	mc := &v1alpha2.MeshConfig{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	mc.Spec.Observability.Tracing.Endpoint = "api/v2/spans"
	cond := ValidityCondition(bootstrap.Defaults("osm-system"), mc)
	if cond.Status != metav1.ConditionFalse || cond.Reason != ReasonInvalidTracing || cond.ObservedGeneration != 3 {
		t.Fatalf("want Valid=False for a relative endpoint, got %+v", cond)
	}
	if want := "api/v2/spans"; !strings.Contains(cond.Message, want) {
		t.Errorf("the message should quote the bad value %q: %s", want, cond.Message)
	}
	mc.Spec.Observability.Tracing.Endpoint = "/api/v2/spans"
	if cond := ValidityCondition(bootstrap.Defaults("osm-system"), mc); cond.Status != metav1.ConditionTrue {
		t.Fatalf("want Valid=True, got %+v", cond)
	}
}
