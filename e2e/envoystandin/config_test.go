package envoystandin

import (
	"testing"

	"github.com/google/go-cmp/cmp"

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
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadConfig (-want +got):\n%s", diff)
			}
		})
	}
}
