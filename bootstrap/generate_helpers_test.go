package bootstrap

import (
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// guideTracing is the user guide's tracing configuration.
func guideTracing() Tracing {
	t := Defaults("osm-system")
	t.Enable = true
	return t
}

// demoCases are the bootstraps of the guide's bookstore demo, plus tracing off, overridden
// collector settings, B3-only propagation and server-first ports from annotations. The keys
// name the golden files.
func demoCases() map[string]Settings {
	overridden := Tracing{Enable: true, Address: "zipkin.tracing.svc.cluster.local", Port: 9412, Endpoint: "/zipkin/api/v2/spans", Sampling: 12.5,
		Propagation: PropagationB3W3C}
	off := guideTracing()
	off.Enable = false
	b3 := guideTracing()
	b3.Propagation = PropagationB3
	cases := map[string]Settings{
		"bookbuyer":               {ServiceName: "bookbuyer", Workload: Workload{Kind: KindDeployment, Name: "bookbuyer"}, Tracing: guideTracing()},
		"bookstore-v1":            {ServiceName: "bookstore-v1", Workload: Workload{Kind: KindDeployment, Name: "bookstore-v1"}, Tracing: guideTracing()},
		"bookstore-v2":            {ServiceName: "bookstore-v2", Workload: Workload{Kind: KindDeployment, Name: "bookstore-v2"}, Tracing: guideTracing()},
		"bookwarehouse":           {ServiceName: "bookwarehouse", Workload: Workload{Kind: KindDeployment, Name: "bookwarehouse"}, Tracing: guideTracing()},
		"bookbuyer-tracing-off":   {ServiceName: "bookbuyer", Tracing: off},
		"bookstore-v1-overridden": {ServiceName: "bookstore-v1", Workload: Workload{Kind: KindDeployment, Name: "bookstore-v1"}, Tracing: overridden},
		"bookbuyer-b3":            {ServiceName: "bookbuyer", Workload: Workload{Kind: KindDeployment, Name: "bookbuyer"}, Tracing: b3},
	}
	cases["bookwarehouse-server-first"] = serverFirstCase()
	cases["bookbuyer-otlp"] = otlpCase()
	cases["bookbuyer-tags"] = tagsCase()
	cases["bookbuyer-observability"] = observabilityCase()
	return cases
}

// observabilityCase is bookbuyer with the access log on (the MeshConfig turns it on, the
// namespace off, the pod on again), the MeshConfig's own span names, and a collector named
// by a short name (jaeger.tracing, not a Service's fully qualified name), which keeps the
// pod's DNS search list; resolved as the webhook resolves them.
func observabilityCase() Settings {
	on := true
	s, err := Resolve(Input{
		Defaults: guideTracing(),
		Mesh: &v1alpha2.ObservabilitySpec{
			AccessLog: v1alpha2.AccessLogSpec{Enable: &on},
			Tracing: v1alpha2.TracingSpec{Address: "jaeger.tracing", SpanNames: &v1alpha2.SpanNamesSpec{
				Inbound: "%REQ(:METHOD)% %PROTOCOL% :%DOWNSTREAM_LOCAL_PORT%", Outbound: "%REQ(:METHOD)% %REQ(X-Route?:AUTHORITY):64%",
			}},
		},
		NamespaceName:        "bookbuyer",
		NamespaceAnnotations: map[string]string{AnnotationAccessLog: "false"},
		PodAnnotations:       map[string]string{AnnotationAccessLog: "true"},
		Owner:                Workload{Kind: KindDeployment, Name: "bookbuyer"},
	})
	if err != nil {
		panic(err)
	}
	return s
}

// tagsCase is bookbuyer with extra span tags from every layer, resolved as the webhook
// resolves them: the MeshConfig's team (a literal) and tenant (a request header), the
// namespace's team overriding the MeshConfig's, the pod's region; and the MeshConfig's
// maxPathTagLength.
func tagsCase() Settings {
	literal, header, maxPath := "platform", "X-Tenant-Id", int32(1024)
	s, err := Resolve(Input{
		Defaults: guideTracing(),
		Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{MaxPathTagLength: &maxPath, Tags: []v1alpha2.TracingTag{
			{Tag: "team", Literal: &literal}, {Tag: "tenant", Header: &header}}}},
		NamespaceName:        "bookbuyer",
		NamespaceAnnotations: map[string]string{AnnotationTags: "team=payments"},
		PodAnnotations:       map[string]string{AnnotationTags: "region=literal:eu-west-1"},
		Owner:                Workload{Kind: KindDeployment, Name: "bookbuyer"},
	})
	if err != nil {
		panic(err)
	}
	return s
}

// serverFirstCase is bookwarehouse, whose namespace declares Telnet (23) and whose pod
// declares POP3, IMAP, SMTP submission and MySQL again (all defaults) and a second MySQL on
// 3307, resolved as the webhook resolves them: ServerFirstPorts 23,3307, so the inspector
// skips 21,22,23,25,110,143,587,2525,3306,3307,4222, where 21-23 and 3306-3307 make one range
// each.
func serverFirstCase() Settings {
	s, err := Resolve(Input{
		Defaults:             guideTracing(),
		NamespaceName:        "bookwarehouse",
		NamespaceAnnotations: map[string]string{AnnotationServerFirstPorts: "23"},
		PodAnnotations:       map[string]string{AnnotationServerFirstPorts: "110, 143,587,3306,3307,3306"},
		Owner:                Workload{Kind: KindDeployment, Name: "bookwarehouse"},
	})
	if err != nil {
		panic(err)
	}
	return s
}

// otlpCase is bookbuyer with the MeshConfig's protocol opentelemetry and no port set, resolved
// as the webhook resolves it: OTLP over gRPC to Jaeger's port 4317.
func otlpCase() Settings {
	s, err := Resolve(Input{
		Defaults:      guideTracing(),
		Mesh:          &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: ProtocolOpenTelemetry}},
		NamespaceName: "bookbuyer",
		Owner:         Workload{Kind: KindDeployment, Name: "bookbuyer"},
	})
	if err != nil {
		panic(err)
	}
	return s
}

// mustGenerate generates s or fails the test.
func mustGenerate(t testing.TB, s Settings) Generated {
	t.Helper()
	g, err := Generate(s)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", s, err)
	}
	return g
}

// mustParse parses y strictly, validates it, or fails the test.
func mustParse(t testing.TB, y []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	b, err := Parse(y)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, y)
	}
	if err := Validate(b); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return b
}

// generic decodes YAML into plain maps, lists and scalars, for structural comparison.
func generic(t testing.TB, y []byte) any {
	t.Helper()
	var v any
	if err := sigsyaml.Unmarshal(y, &v); err != nil {
		t.Fatalf("unmarshal YAML: %v\n%s", err, y)
	}
	return v
}

// hcms returns every HTTP connection manager of b's listeners, by listener name.
func hcms(t testing.TB, b *bootstrapv3.Bootstrap) map[string][]*hcmv3.HttpConnectionManager {
	t.Helper()
	out := map[string][]*hcmv3.HttpConnectionManager{}
	for _, l := range b.GetStaticResources().GetListeners() {
		chains := append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...)
		for _, fc := range chains {
			for _, f := range fc.GetFilters() {
				if f.GetName() != hcmFilterName {
					continue
				}
				hcm := new(hcmv3.HttpConnectionManager)
				if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
					t.Fatalf("listener %s: unpack HCM: %v", l.GetName(), err)
				}
				out[l.GetName()] = append(out[l.GetName()], hcm)
			}
		}
	}
	return out
}
