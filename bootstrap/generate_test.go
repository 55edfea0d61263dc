package bootstrap

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"testing"

	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestTracingClusterMatchesGuide checks envoy-tracing-cluster field by field against the
// config_dump excerpt of the user guide, plus the TCP keepalive the guide's excerpt predates.
func TestTracingClusterMatchesGuide(t *testing.T) {
	g := mustGenerate(t, demoCases()["bookbuyer"])
	doc := generic(t, g.YAML).(map[string]any)
	var cluster map[string]any
	for _, c := range doc["static_resources"].(map[string]any)["clusters"].([]any) {
		if c := c.(map[string]any); c["name"] == TracingClusterName {
			cluster = c
		}
	}
	if cluster == nil {
		t.Fatalf("no cluster %s in\n%s", TracingClusterName, g.YAML)
	}
	want := map[string]any{
		"name":                     "envoy-tracing-cluster",
		"type":                     "LOGICAL_DNS",
		"connect_timeout":          "1s",
		"alt_stat_name":            "envoy-tracing-cluster",
		"dns_lookup_family":        "V4_PREFERRED",
		"dns_refresh_rate":         "60s",
		"respect_dns_ttl":          true,
		"dns_jitter":               "1s",
		"dns_failure_refresh_rate": map[string]any{"base_interval": "1s", "max_interval": "30s"},
		"typed_dns_resolver_config": map[string]any{
			"name": "envoy.network.dns_resolver.cares",
			"typed_config": map[string]any{
				"@type":                "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
				"dns_resolver_options": map[string]any{"no_default_search_domain": true},
			},
		},
		"upstream_connection_options": map[string]any{"tcp_keepalive": map[string]any{
			"keepalive_probes": float64(4), "keepalive_time": float64(60), "keepalive_interval": float64(15),
		}},
		"load_assignment": map[string]any{
			"cluster_name": "envoy-tracing-cluster",
			"endpoints": []any{map[string]any{
				"lb_endpoints": []any{map[string]any{
					"endpoint": map[string]any{
						"address": map[string]any{
							"socket_address": map[string]any{
								"address":    "jaeger.osm-system.svc.cluster.local",
								"port_value": float64(9411),
							},
						},
					},
				}},
			}},
		},
	}
	if diff := cmp.Diff(want, cluster); diff != "" {
		t.Errorf("envoy-tracing-cluster (-want +got):\n%s", diff)
	}
}

// TestHCMs checks every HTTP connection manager: request ids, the router, a stat prefix, and
// the Zipkin tracer on the traffic listeners exactly when tracing is on. The health
// listener never traces (readiness probes would flood the collector).
func TestHCMs(t *testing.T) {
	for name, s := range demoCases() {
		t.Run(name, func(t *testing.T) {
			g := mustGenerate(t, s)
			b := mustParse(t, g.YAML)
			if got := b.GetNode().GetCluster(); got != s.ServiceName {
				t.Errorf("node.cluster = %q, want the service name %q", got, s.ServiceName)
			}
			byListener := hcms(t, b)
			for _, l := range []string{OutboundListenerName, InboundListenerName, HealthListenerName} {
				if len(byListener[l]) != 1 {
					t.Fatalf("listener %s has %d HCMs, want 1", l, len(byListener[l]))
				}
			}
			for listener, list := range byListener {
				for _, hcm := range list {
					if !hcm.GetGenerateRequestId().GetValue() {
						t.Errorf("%s: generate_request_id is not true", listener)
					}
					if hcm.GetStatPrefix() == "" {
						t.Errorf("%s: no stat_prefix", listener)
					}
					filters := hcm.GetHttpFilters()
					if n := len(filters); n == 0 || filters[n-1].GetName() != routerFilterName || filters[n-1].GetTypedConfig() == nil {
						t.Errorf("%s: the last HTTP filter is not the typed router: %v", listener, filters)
					}
					wantTracer := s.Tracing.Enable && listener != HealthListenerName && listener != PrometheusListenerName
					if !wantTracer {
						if hcm.GetTracing() != nil {
							t.Errorf("%s: has a tracer, want none", listener)
						}
						continue
					}
					if s.Tracing.Protocol == ProtocolOpenTelemetry {
						if got := hcm.GetTracing().GetProvider().GetName(); got != OpenTelemetryTracerName {
							t.Errorf("%s: tracer %q, want %q", listener, got, OpenTelemetryTracerName)
						}
						continue // the rules table checks the rest (checkOpenTelemetry)
					}
					checkZipkin(t, listener, hcm.GetTracing(), s.Tracing)
				}
			}
			hasCluster := strings.Contains(string(g.YAML), TracingClusterName)
			if hasZipkin := strings.Contains(string(g.YAML), "zipkin"); !s.Tracing.Enable && (hasCluster || hasZipkin) {
				t.Errorf("tracing is off but the bootstrap mentions the tracer or its cluster:\n%s", g.YAML)
			}
			if s.Tracing.Enable && !hasCluster {
				t.Errorf("tracing is on but there is no %s", TracingClusterName)
			}
		})
	}
}

// checkZipkin checks an HCM's tracing block against the settings.
func checkZipkin(t *testing.T, listener string, tr interface {
	GetProvider() *tracev3.Tracing_Http
}, want Tracing) {
	t.Helper()
	p := tr.GetProvider()
	if p.GetName() != ZipkinTracerName {
		t.Fatalf("%s: tracer %q, want %q", listener, p.GetName(), ZipkinTracerName)
	}
	z := new(tracev3.ZipkinConfig)
	if err := p.GetTypedConfig().UnmarshalTo(z); err != nil {
		t.Fatalf("%s: unpack ZipkinConfig: %v", listener, err)
	}
	got := map[string]any{
		"collector_cluster":          z.GetCollectorCluster(),
		"collector_endpoint":         z.GetCollectorEndpoint(),
		"collector_endpoint_version": z.GetCollectorEndpointVersion().String(),
		"collector_hostname":         z.GetCollectorHostname(),
		"trace_id_128bit":            z.GetTraceId_128Bit(),
		"shared_span_context":        z.GetSharedSpanContext() != nil && z.GetSharedSpanContext().GetValue(),
		"trace_context_option":       z.GetTraceContextOption().String(),
	}
	wantContext := "USE_B3"
	if want.Propagation == PropagationB3W3C {
		wantContext = "USE_B3_WITH_W3C_PROPAGATION"
	}
	wantFields := map[string]any{
		"collector_cluster":          TracingClusterName,
		"collector_endpoint":         want.Endpoint,
		"collector_endpoint_version": "HTTP_JSON",
		"collector_hostname":         want.Address,
		"trace_id_128bit":            true,
		"shared_span_context":        false,
		"trace_context_option":       wantContext,
	}
	if diff := cmp.Diff(wantFields, got); diff != "" {
		t.Errorf("%s: zipkin config (-want +got):\n%s", listener, diff)
	}
}

// TestSampling checks that random_sampling carries the sampling percentage.
func TestSampling(t *testing.T) {
	for _, pct := range []float64{0, 12.5, 100} {
		tr := guideTracing()
		tr.Sampling = pct
		b, err := Build(Settings{ServiceName: "bookbuyer", Tracing: tr})
		if err != nil {
			t.Fatal(err)
		}
		for listener, list := range hcms(t, b) {
			for _, hcm := range list {
				if listener == HealthListenerName || listener == PrometheusListenerName {
					continue
				}
				if got := hcm.GetTracing().GetRandomSampling().GetValue(); got != pct {
					t.Errorf("%s: random_sampling %v, want %v", listener, got, pct)
				}
			}
		}
	}
}

// TestRoundTrip: Parse(Marshal(Build(s))) equals Build(s).
func TestRoundTrip(t *testing.T) {
	for name, s := range demoCases() {
		t.Run(name, func(t *testing.T) {
			b, err := Build(s)
			if err != nil {
				t.Fatal(err)
			}
			y, err := Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(b, mustParse(t, y), protocmp.Transform()); diff != "" {
				t.Errorf("Parse(Marshal(b)) differs (-built +parsed):\n%s", diff)
			}
		})
	}
}

// TestParseIsStrict: unknown fields, also inside a typed_config, and duplicate keys are errors.
func TestParseIsStrict(t *testing.T) {
	good := mustGenerate(t, demoCases()["bookbuyer"]).YAML
	cases := map[string]struct{ old, new, wantErr string }{
		"unknown top-level field": {"node:\n", "bogus_field: 1\nnode:\n", "bogus_field"},
		"unknown field in node":   {"  cluster: bookbuyer\n", "  cluster: bookbuyer\n  colour: blue\n", "colour"},
		"unknown field in a typed_config": {"collector_cluster: envoy-tracing-cluster\n",
			"collector_cluster: envoy-tracing-cluster\n                collector_colour: blue\n", "collector_colour"},
		"duplicate key":    {"  cluster: bookbuyer\n", "  cluster: bookbuyer\n  cluster: bookstore\n", "cluster"},
		"empty document":   {string(good), "", "empty"},
		"unknown Any type": {"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router", "type.googleapis.com/example.Nope", "example.Nope"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(good), c.old, c.new, 1)
			if bad == string(good) {
				t.Fatalf("the test's anchor %q is not in the YAML", c.old)
			}
			_, err := Parse([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Parse = %v, want an error naming %q", err, c.wantErr)
			}
		})
	}
}

// TestHash: equal settings give equal hashes; every distinct demo bootstrap has its own.
func TestHash(t *testing.T) {
	seen := map[string]string{}
	for name, s := range demoCases() {
		a, b := mustGenerate(t, s), mustGenerate(t, s)
		if a.Hash != b.Hash || !bytes.Equal(a.YAML, b.YAML) {
			t.Errorf("%s: two generations differ: %s vs %s", name, a.Hash, b.Hash)
		}
		if a.Hash != Hash(a.YAML) || len(a.Hash) != HashLen || strings.Trim(a.Hash, "0123456789abcdef") != "" {
			t.Errorf("%s: hash %q is not the %d-hex-digit Hash of the YAML", name, a.Hash, HashLen)
		}
		if other, dup := seen[a.Hash]; dup {
			t.Errorf("%s and %s share hash %s", name, other, a.Hash)
		}
		seen[a.Hash] = name
	}
	// Each field that reaches the bootstrap changes the hash.
	base := demoCases()["bookbuyer"]
	variants := map[string]func(*Settings){
		"service":            func(s *Settings) { s.ServiceName = "bookthief" },
		"address":            func(s *Settings) { s.Tracing.Address = "10.0.0.1" },
		"port":               func(s *Settings) { s.Tracing.Port = 9412 },
		"endpoint":           func(s *Settings) { s.Tracing.Endpoint = "/api/v1/spans" },
		"sampling":           func(s *Settings) { s.Tracing.Sampling = 99.9 },
		"enable":             func(s *Settings) { s.Tracing.Enable = false },
		"b3 only":            func(s *Settings) { s.Tracing.Propagation = PropagationB3 },
		"server-first ports": func(s *Settings) { s.ServerFirstPorts = "3307" },
	}
	baseHash := mustGenerate(t, base).Hash
	for name, change := range variants {
		s := base
		change(&s)
		if h := mustGenerate(t, s).Hash; h == baseHash {
			t.Errorf("changing %s kept hash %s", name, h)
		}
	}
	// With tracing off the collector fields do not reach the bootstrap: same content, same
	// hash, one shared ConfigMap.
	off1, off2 := base, base
	off1.Tracing.Enable, off2.Tracing.Enable = false, false
	off2.Tracing.Address, off2.Tracing.Port = "elsewhere", 1
	if h1, h2 := mustGenerate(t, off1).Hash, mustGenerate(t, off2).Hash; h1 != h2 {
		t.Errorf("tracing off: unused collector fields changed the hash (%s vs %s)", h1, h2)
	}
}

// TestInvalidSettings: Generate refuses what cannot make a bootstrap, naming the field.
func TestInvalidSettings(t *testing.T) {
	cases := map[string]struct {
		change    func(*Settings)
		wantField string
	}{
		"port 0":                             {func(s *Settings) { s.Tracing.Port = 0 }, "tracing.port"},
		"port above 65535":                   {func(s *Settings) { s.Tracing.Port = 65536 }, "tracing.port"},
		"endpoint without a slash":           {func(s *Settings) { s.Tracing.Endpoint = "api/v2/spans" }, "tracing.endpoint"},
		"endpoint with a space":              {func(s *Settings) { s.Tracing.Endpoint = "/api/v2 spans" }, "tracing.endpoint"},
		"empty endpoint":                     {func(s *Settings) { s.Tracing.Endpoint = "" }, "tracing.endpoint"},
		"sampling below 0":                   {func(s *Settings) { s.Tracing.Sampling = -0.1 }, "tracing.sampling"},
		"sampling above 100":                 {func(s *Settings) { s.Tracing.Sampling = 100.5 }, "tracing.sampling"},
		"sampling NaN":                       {func(s *Settings) { s.Tracing.Sampling = math.NaN() }, "tracing.sampling"},
		"empty address":                      {func(s *Settings) { s.Tracing.Address = "" }, "tracing.address"},
		"address with a scheme":              {func(s *Settings) { s.Tracing.Address = "http://jaeger" }, "tracing.address"},
		"address with a port":                {func(s *Settings) { s.Tracing.Address = "jaeger:9411" }, "tracing.address"},
		"empty service name":                 {func(s *Settings) { s.ServiceName = "" }, "serviceName"},
		"service name with space":            {func(s *Settings) { s.ServiceName = "book buyer" }, "serviceName"},
		"service name too long":              {func(s *Settings) { s.ServiceName = strings.Repeat("a", 64) }, "serviceName"},
		"service name not a label":           {func(s *Settings) { s.ServiceName = "Book_Buyer" }, "serviceName"},
		"address in upper case":              {func(s *Settings) { s.Tracing.Address = "Jaeger.example.com" }, "tracing.address"},
		"address with a final dot":           {func(s *Settings) { s.Tracing.Address = "jaeger." }, "tracing.address"},
		"empty propagation":                  {func(s *Settings) { s.Tracing.Propagation = "" }, "tracing.propagation"},
		"unknown propagation":                {func(s *Settings) { s.Tracing.Propagation = "w3c" }, "tracing.propagation"},
		"server-first port 0":                {func(s *Settings) { s.ServerFirstPorts = "0,22" }, "serverFirstPorts"},
		"server-first port 65536":            {func(s *Settings) { s.ServerFirstPorts = "22,65536" }, "serverFirstPorts"},
		"server-first ports out of order":    {func(s *Settings) { s.ServerFirstPorts = "25,22" }, "serverFirstPorts"},
		"server-first ports repeated":        {func(s *Settings) { s.ServerFirstPorts = "22,22" }, "serverFirstPorts"},
		"server-first ports with a space":    {func(s *Settings) { s.ServerFirstPorts = "22, 25" }, "serverFirstPorts"},
		"server-first ports, trailing comma": {func(s *Settings) { s.ServerFirstPorts = "22," }, "serverFirstPorts"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := demoCases()["bookbuyer"]
			c.change(&s)
			if _, err := Generate(s); err == nil || !strings.Contains(err.Error(), c.wantField) {
				t.Errorf("Generate = %v, want an error naming %s", err, c.wantField)
			}
			if _, err := Build(s); err == nil {
				t.Errorf("Build accepted the settings")
			}
		})
	}
	t.Run("all errors at once", func(t *testing.T) {
		s := Settings{Tracing: Tracing{Enable: true, Sampling: 200}}
		_, err := Generate(s)
		for _, field := range []string{"serviceName", "tracing.address", "tracing.port", "tracing.endpoint", "tracing.sampling", "tracing.propagation"} {
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("error %v does not name %s", err, field)
			}
		}
	})
	t.Run("tracing off ignores the collector fields", func(t *testing.T) {
		if _, err := Generate(Settings{ServiceName: "bookbuyer"}); err != nil {
			t.Errorf("Generate = %v, want no error", err)
		}
	})
}

// TestValidAddresses: DNS names and IP addresses are accepted; IPv6 gets a bracketed Host.
func TestValidAddresses(t *testing.T) {
	for address, host := range map[string]string{
		"jaeger.osm-system.svc.cluster.local": "jaeger.osm-system.svc.cluster.local",
		"jaeger":                              "jaeger",
		"10.96.0.12":                          "10.96.0.12",
		"fd00::12":                            "[fd00::12]",
	} {
		tr := guideTracing()
		tr.Address = address
		b, err := Build(Settings{ServiceName: "bookbuyer", Tracing: tr})
		if err != nil {
			t.Errorf("%s: %v", address, err)
			continue
		}
		for _, hcm := range hcms(t, b)[OutboundListenerName] {
			z := new(tracev3.ZipkinConfig)
			if err := hcm.GetTracing().GetProvider().GetTypedConfig().UnmarshalTo(z); err != nil {
				t.Fatal(err)
			}
			if z.GetCollectorHostname() != host {
				t.Errorf("%s: collector_hostname %q, want %q", address, z.GetCollectorHostname(), host)
			}
		}
	}
}

// TestConcurrentGenerate: Generate shares no state between calls (run with -race).
func TestConcurrentGenerate(t *testing.T) {
	cases := demoCases()
	want := map[string]Generated{}
	for name, s := range cases {
		want[name] = mustGenerate(t, s)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				for name, s := range cases {
					g, err := Generate(s)
					if err != nil || g.Hash != want[name].Hash {
						t.Errorf("%s: concurrent Generate = %v, %v; want hash %s", name, g.Hash, err, want[name].Hash)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
