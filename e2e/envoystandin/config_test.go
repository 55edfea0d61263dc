package envoystandin

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// generated is the project's own bootstrap for bookbuyer with tracing t, parsed back as the
// stand-in parses the mounted file.
func generated(t *testing.T, tr bootstrap.Tracing) Config {
	t.Helper()
	g, err := bootstrap.Generate(bootstrap.Settings{Tracing: tr, ServiceName: "bookbuyer",
		Workload: bootstrap.Workload{Kind: bootstrap.KindDeployment, Name: "bookbuyer"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootstrap.Parse(g.YAML)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadConfig(t *testing.T) {
	listeners := []Listener{
		{Name: "outbound", Addresses: []string{"0.0.0.0:15001", "[::]:15001"}},
		{Name: "inbound", Addresses: []string{"0.0.0.0:15003", "[::]:15003"}},
		{Name: "health", Addresses: []string{"0.0.0.0:15021", "[::]:15021"}},
	}
	zipkin := bootstrap.Defaults("osm-system")
	zipkin.Enable = true
	zipkin.Sampling = 12.5
	otlp := zipkin
	otlp.Protocol = bootstrap.ProtocolOpenTelemetry
	otlp.Port = bootstrap.DefaultOTLPPort
	otlp.Endpoint = ""
	off := zipkin
	off.Enable = false
	ipv6 := zipkin
	ipv6.Address = "fd00::9"
	// The bootstrap's span names, tags and access logs are checked on hand-built bootstraps
	// (TestReadConfigObservability); here, where to listen and where spans go.
	ignore := cmp.Options{
		cmpopts.IgnoreFields(Listener{}, "Operation", "Tags", "HTTPLog", "TCPLog"),
		cmpopts.IgnoreFields(Tracer{}, "OTLP"),
	}
	for name, c := range map[string]struct {
		tracing bootstrap.Tracing
		want    *Tracer
	}{
		"zipkin": {zipkin, &Tracer{Name: bootstrap.ZipkinTracerName, Collector: "jaeger.osm-system.svc.cluster.local:9411",
			Endpoint: "/api/v2/spans", Hostname: "jaeger.osm-system.svc.cluster.local", Sampling: 12.5}},
		"zipkin on IPv6": {ipv6, &Tracer{Name: bootstrap.ZipkinTracerName, Collector: "[fd00::9]:9411",
			Endpoint: "/api/v2/spans", Hostname: "[fd00::9]", Sampling: 12.5}},
		"opentelemetry": {otlp, &Tracer{Name: bootstrap.OpenTelemetryTracerName, Collector: "jaeger.osm-system.svc.cluster.local:4317",
			Sampling: 12.5}},
		"off": {off, nil},
	} {
		t.Run(name, func(t *testing.T) {
			got := generated(t, c.tracing)
			want := Config{NodeID: "bookbuyer", ServiceName: "bookbuyer", Admin: "127.0.0.1:15000", Listeners: listeners, Tracer: c.want}
			if len(got.Listeners) == 4 { // the bootstrap serves Prometheus
				want.Listeners = append(want.Listeners, Listener{Name: "prometheus", Addresses: []string{"0.0.0.0:15090", "[::]:15090"}})
			}
			if diff := cmp.Diff(want, got, ignore); diff != "" {
				t.Errorf("ReadConfig (-want +got):\n%s", diff)
			}
			if c.want != nil && c.want.Name == bootstrap.OpenTelemetryTracerName {
				if o := got.Tracer.OTLP; o == nil || o.Authority != "jaeger.osm-system.svc.cluster.local" || o.Resource["service.name"] != "bookbuyer" {
					t.Errorf("the OTLP export: %+v, want :authority jaeger.osm-system.svc.cluster.local and service.name bookbuyer", o)
				}
			}
		})
	}
}
