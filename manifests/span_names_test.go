package manifests

import (
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/manifests/crdtest"
)

// TestSpanNamesAgreeWithCRD feeds span name formats to the CRD's CEL rule and to the
// injector's validator (through bootstrap.MeshTracing) and fails when they disagree or
// when one of the expected verdicts is wrong. Generate must render every accepted one.
func TestSpanNamesAgreeWithCRD(t *testing.T) {
	v, err := crdtest.New(CRDs)
	if err != nil {
		t.Fatal(err)
	}
	good := []string{
		bootstrap.DefaultInboundSpanName, bootstrap.DefaultOutboundSpanName, "inbound", "GET /",
		"%REQ(:METHOD)% %REQ(X-Route?:AUTHORITY):64%", "%PROTOCOL% %HOSTNAME%", "%REQ(x-grpc.service_name)%",
		"a b!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~", strings.Repeat("x", 256), "%REQ(:PATH):9999%",
	}
	bad := []string{
		"", "%", "100%", "%REQ()%", "%REQ(:METHOD)", "%START_TIME%", "%REQ(:METHOD):0%", "%REQ(:METHOD):10000%",
		"%REQ(a b)%", "%REQ(:METHOD)?%", "tab\there", "caf\u00e9", strings.Repeat("x", 257), "%DYNAMIC_METADATA(a)%",
		"%REQ(:A?)%", "%REQ(?:A)%", "%REQ(:A):%",
	}
	for _, side := range []string{"inbound", "outbound"} {
		for _, want := range []bool{true, false} {
			values := good
			if !want {
				values = bad
			}
			for _, name := range values {
				names := &v1alpha2.SpanNamesSpec{}
				if side == "inbound" {
					names.Inbound = name
				} else {
					names.Outbound = name
				}
				crdErr := v.Validate(map[string]any{
					"apiVersion": v1alpha2.GroupVersion.String(), "kind": "MeshConfig",
					"metadata": map[string]any{"name": "osm-mesh-config", "namespace": "osm-system"},
					"spec": map[string]any{"observability": map[string]any{"tracing": map[string]any{
						"spanNames": map[string]any{side: name}}}},
				})
				tr, ourErr := bootstrap.MeshTracing(bootstrap.Defaults("osm-system"), &v1alpha2.ObservabilitySpec{
					Tracing: v1alpha2.TracingSpec{SpanNames: names}})
				if name == "" {
					// An empty string is "unset" to the injector; the CRD's minLength refuses it.
					ourErr = crdErr
				}
				if (crdErr == nil) != want || (ourErr == nil) != want {
					t.Errorf("%s %q: CRD says %v, the injector says %v; want accepted=%v", side, name, crdErr, ourErr, want)
					continue
				}
				if want {
					tr.Enable = true
					if _, err := bootstrap.Generate(bootstrap.Settings{Tracing: tr, ServiceName: "web"}); err != nil {
						t.Errorf("%s %q: accepted, but Generate says %v", side, name, err)
					}
				} else if ourErr != nil && !strings.Contains(ourErr.Error(), "spec.observability.tracing.spanNames."+side) {
					t.Errorf("%s %q: the error does not name the field: %v", side, name, ourErr)
				}
			}
		}
	}
}
