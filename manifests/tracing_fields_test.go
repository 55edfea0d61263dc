package manifests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/manifests/crdtest"
)

// tracingField is one tracing setting and the forms it takes on each path that validates it:
// the annotation (a string), the MeshConfig field (spec.observability.tracing.<specField>) and
// the generator's Settings. A value with no form on a path (port "-1" in a uint32, say) is not
// checked on that path.
type tracingField struct {
	annotation string
	// specField is the field's JSON name in the MeshConfig and in the chart's osm.tracing
	// values; "" when there is none (service-name).
	specField  string
	toSpec     func(v string, spec *v1alpha2.TracingSpec) bool
	toChart    func(v string) (any, bool)
	toSettings func(v string, s *bootstrap.Settings) bool
	good, bad  []string
}

// dnsName is a lowercase DNS name of n bytes made of 63-byte labels.
func dnsName(n int) string {
	var b strings.Builder
	for label := 'a'; b.Len() < n; label++ {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.Repeat(string(label), min(63, n-b.Len())))
	}
	return b.String()
}

func tracingFields() []tracingField {
	asString := func(v string) (any, bool) { return v, true }
	asInt := func(v string) (any, bool) {
		n, err := strconv.ParseInt(v, 10, 32)
		return n, err == nil
	}
	asFloat := func(v string) (any, bool) {
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return []tracingField{{
		annotation: bootstrap.AnnotationAddress, specField: "address",
		toSpec:     func(v string, spec *v1alpha2.TracingSpec) bool { spec.Address = v; return true },
		toChart:    asString,
		toSettings: func(v string, s *bootstrap.Settings) bool { s.Tracing.Address = v; return true },
		good: []string{
			"jaeger.osm-system.svc.cluster.local", "jaeger", "1e100.net", "xn--bcher-kva.example",
			"10.0.0.7", "0.0.0.0", "fd00::7", "FD00::7", "::1",
			strings.Repeat("a", 63) + ".example.com", dnsName(253),
		},
		bad: []string{
			dnsName(254), strings.Repeat("a", 64) + ".example.com",
			"Jaeger.example.com", "jaeger.", ".jaeger", "jaeger..local", "-jaeger", "jaeger-", "jaeger_1",
			"bad host!", "jäger.example", "300.1.2.3", "1.2.3", "10.0.0.256", "010.0.0.1",
			"http://jaeger:9411", "jaeger:9411", "[fd00::7]", "fe80::1%eth0", "::ffff:10.0.0.7",
		},
	}, {
		annotation: bootstrap.AnnotationPort, specField: "port",
		toSpec: func(v string, spec *v1alpha2.TracingSpec) bool {
			n, err := strconv.ParseInt(v, 10, 32)
			spec.Port = ptr.To(int32(n))
			return err == nil
		},
		toChart: asInt,
		toSettings: func(v string, s *bootstrap.Settings) bool {
			n, err := strconv.ParseUint(v, 10, 32)
			s.Tracing.Port = uint32(n)
			return err == nil
		},
		good: []string{"1", "80", "9411", "65535"},
		bad:  []string{"0", "65536", "70000", "-1"},
	}, {
		annotation: bootstrap.AnnotationEndpoint, specField: "endpoint",
		toSpec:     func(v string, spec *v1alpha2.TracingSpec) bool { spec.Endpoint = v; return true },
		toChart:    asString,
		toSettings: func(v string, s *bootstrap.Settings) bool { s.Tracing.Endpoint = v; return true },
		good: []string{
			"/", "/api/v2/spans", "/api/v2/spans?tenant=a&x=1", "/~!$&'()*+,;=:@%20", "/" + strings.Repeat("a", 1023),
		},
		bad: []string{
			"api/v2/spans", " /api", "/api/v2 spans", "/a\tb", "/api/v2/spans#x", "/spañs", "/" + strings.Repeat("a", 1024),
		},
	}, {
		annotation: bootstrap.AnnotationSampling, specField: "sampling",
		toSpec: func(v string, spec *v1alpha2.TracingSpec) bool {
			f, err := strconv.ParseFloat(v, 64)
			spec.Sampling = ptr.To(f)
			return err == nil
		},
		toChart: asFloat,
		toSettings: func(v string, s *bootstrap.Settings) bool {
			f, err := strconv.ParseFloat(v, 64)
			s.Tracing.Sampling = f
			return err == nil
		},
		good: []string{"0", "0.01", "12.5", "99.999", "100"},
		bad:  []string{"-1", "-0.1", "100.5", "101"},
	}, {
		annotation: bootstrap.AnnotationServiceName,
		toSettings: func(v string, s *bootstrap.Settings) bool { s.ServiceName = v; return true },
		good:       []string{"bookbuyer", "bookstore-v1", "a", "1abc", strings.Repeat("a", 63)},
		bad:        []string{"Bookbuyer", "book_buyer", "book.buyer", "-book", "book-", "book buyer", strings.Repeat("a", 64)},
	}}
}

// TestTracingFieldsHaveOneRule feeds the same good and bad values of each tracing field to
// every path that validates it: the pod annotation (bootstrap.Resolve), the MeshConfig field
// as the controller reads it (bootstrap.MeshTracing), the generator's guard
// (bootstrap.Generate), and the MeshConfig CRD as the API server applies it (its OpenAPI
// schema and CEL rules, evaluated with the API server's own libraries). Every path must give
// the expected verdict. The chart's values.schema.json is a coarser first check of
// osm.tracing.*: it must never refuse a value the CRD accepts.
func TestTracingFieldsHaveOneRule(t *testing.T) {
	crd := meshConfigCRD(t)
	chartValues := chartTracingValidator(t)
	defaults := bootstrap.Defaults(testNamespace)
	for _, f := range tracingFields() {
		cases := map[string]bool{}
		for _, v := range f.good {
			cases[v] = true
		}
		for _, v := range f.bad {
			cases[v] = false
		}
		for v, ok := range cases {
			t.Run(fmt.Sprintf("%s=%q", f.annotation, v), func(t *testing.T) {
				verdict := func(path string, err error) {
					t.Helper()
					if (err == nil) != ok {
						t.Errorf("%s: error %v, want accepted=%t", path, err, ok)
					}
				}
				_, err := bootstrap.Resolve(bootstrap.Input{
					Defaults: defaults, NamespaceName: "shop", PodName: "web",
					PodAnnotations: map[string]string{f.annotation: v},
				})
				verdict("pod annotation", err)

				s := bootstrap.Settings{ServiceName: "bookbuyer", Tracing: defaults}
				s.Tracing.Enable = true
				if f.toSettings(v, &s) {
					_, err := bootstrap.Generate(s)
					verdict("bootstrap.Generate", err)
				}

				var spec v1alpha2.TracingSpec
				if f.toSpec == nil || !f.toSpec(v, &spec) {
					return
				}
				_, err = bootstrap.MeshTracing(defaults, &v1alpha2.ObservabilitySpec{Tracing: spec})
				verdict("MeshConfig (bootstrap.MeshTracing)", err)
				crdErr := crd(t, spec)
				verdict("MeshConfig CRD", crdErr)
				if crdErr != nil && !strings.Contains(crdErr.Error(), "spec.observability.tracing."+f.specField) {
					t.Errorf("the CRD's message does not name spec.observability.tracing.%s: %v", f.specField, crdErr)
				}

				if value, representable := f.toChart(v); representable && crdErr == nil {
					if err := chartValues(f.specField, value); err != nil {
						t.Errorf("values.schema.json refuses osm.tracing.%s=%v, which the CRD accepts: %v", f.specField, value, err)
					}
				}
			})
		}
	}
}

// meshConfigCRD returns the MeshConfig CRD's validation as the API server runs it on a create:
// the OpenAPI schema, then the CEL rules. It also checks that the chart carries the same CRD
// as manifests/crds.
func meshConfigCRD(t *testing.T) func(*testing.T, v1alpha2.TracingSpec) error {
	t.Helper()
	v, err := crdtest.New(CRDs)
	if err != nil {
		t.Fatal(err)
	}
	inChart := loadChart(t).CRDObjects()
	if len(inChart) != 1 || string(inChart[0].File.Data) != string(v.Data) {
		t.Fatalf("the chart's CRD differs from %s (make generate writes both)", crdtest.File)
	}
	return func(t *testing.T, spec v1alpha2.TracingSpec) error {
		t.Helper()
		mc := &v1alpha2.MeshConfig{
			TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha2.GroupVersion.String(), Kind: "MeshConfig"},
			ObjectMeta: metav1.ObjectMeta{Name: "osm-mesh-config", Namespace: testNamespace},
			Spec:       v1alpha2.MeshConfigSpec{Observability: v1alpha2.ObservabilitySpec{Tracing: spec}},
		}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(mc)
		if err != nil {
			t.Fatal(err)
		}
		return v.Validate(obj)
	}
}

// chartTracingValidator returns a check of one osm.tracing value against the chart's
// values.schema.json, the other values being the chart's defaults.
func chartTracingValidator(t *testing.T) func(field string, value any) error {
	t.Helper()
	ch := loadChart(t)
	return func(field string, value any) error {
		vals, err := chartutil.CoalesceValues(ch, map[string]any{"osm": map[string]any{"tracing": map[string]any{field: value}}})
		if err != nil {
			return err
		}
		return chartutil.ValidateAgainstSchema(ch, vals)
	}
}
