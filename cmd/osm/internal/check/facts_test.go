package check

import (
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func tracingOn() bootstrap.Tracing {
	t := bootstrap.Defaults("osm-system")
	t.Enable = true
	return t
}

func generated(t *testing.T, tr bootstrap.Tracing, service string) bootstrap.Generated {
	t.Helper()
	g, err := bootstrap.Generate(bootstrap.Settings{Tracing: tr, ServiceName: service})
	if err != nil {
		t.Fatalf("bootstrap.Generate: %v", err)
	}
	return g
}

func TestReadFactsOfGeneratedBootstraps(t *testing.T) {
	on := generated(t, tracingOn(), "bookbuyer")
	f, err := ReadFacts(on.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if !f.TracingCluster || f.Address != "jaeger.osm-system.svc.cluster.local" || f.Port != 9411 {
		t.Errorf("facts of a tracing bootstrap: %+v", f)
	}
	if f.HCMs == 0 || len(f.Tracers) != f.HCMs {
		t.Errorf("every HCM should trace: %d HCMs, %d tracers", f.HCMs, len(f.Tracers))
	}
	if p := Problems(f, tracingOn()); len(p) != 0 {
		t.Errorf("a generated bootstrap has problems against its own settings: %v", p)
	}

	off := generated(t, bootstrap.Defaults("osm-system"), "bookbuyer")
	f, err = ReadFacts(off.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if f.TracingCluster || len(f.Tracers) != 0 {
		t.Errorf("facts of a bootstrap without tracing: %+v", f)
	}
	if p := Problems(f, tracingOn()); len(p) == 0 || !strings.Contains(p[0], "no envoy-tracing-cluster") {
		t.Errorf("problems of a bootstrap without tracing, tracing wanted: %v", p)
	}

	if _, err := ReadFacts([]byte("static_resources: {clusters: [{nme: x}]}")); err == nil {
		t.Error("ReadFacts accepted an unknown field")
	}
}

func TestProblems(t *testing.T) {
	good := Facts{
		TracingCluster: true, Address: "jaeger.osm-system.svc.cluster.local", Port: 9411, HCMs: 2,
		Tracers: []Tracer{
			{Listener: "inbound", Cluster: "envoy-tracing-cluster", Endpoint: "/api/v2/spans"},
			{Listener: "outbound", Cluster: "envoy-tracing-cluster", Endpoint: "/api/v2/spans"},
		},
	}
	tests := map[string]struct {
		change func(*Facts, *bootstrap.Tracing)
		want   []string
	}{
		"the bootstrap matches": {change: func(*Facts, *bootstrap.Tracing) {}},
		"the cluster points at another address": {
			change: func(_ *Facts, w *bootstrap.Tracing) { w.Address = "otel.tracing.svc.cluster.local" },
			want:   []string{"points at jaeger.osm-system.svc.cluster.local:9411, not otel.tracing.svc.cluster.local:9411"},
		},
		"the cluster points at another port": {
			change: func(_ *Facts, w *bootstrap.Tracing) { w.Port = 9412 },
			want:   []string{"not jaeger.osm-system.svc.cluster.local:9412"},
		},
		"the tracers post to another endpoint": {
			change: func(_ *Facts, w *bootstrap.Tracing) { w.Endpoint = "/zipkin" },
			want:   []string{"the tracer of listener inbound posts to /api/v2/spans, not /zipkin", "listener outbound"},
		},
		"one HCM has no tracer": {
			change: func(f *Facts, _ *bootstrap.Tracing) { f.Tracers = f.Tracers[:1] },
			want:   []string{"1 of 2 HTTP connection managers have no Zipkin tracer"},
		},
		"a tracer sends elsewhere": {
			change: func(f *Facts, _ *bootstrap.Tracing) {
				f.Tracers = []Tracer{f.Tracers[0], {Listener: "outbound", Cluster: "zipkin", Endpoint: "/api/v2/spans"}}
			},
			want: []string{`sends to cluster "zipkin"`},
		},
		"no tracing cluster": {
			change: func(f *Facts, _ *bootstrap.Tracing) { f.TracingCluster = false },
			want:   []string{"no envoy-tracing-cluster"},
		},
		"tracing disabled but the bootstrap traces": {
			change: func(_ *Facts, w *bootstrap.Tracing) { w.Enable = false },
			want:   []string{"has envoy-tracing-cluster although tracing is disabled", "2 HTTP connection managers have a Zipkin tracer"},
		},
		"tracing disabled and the bootstrap does not trace": {
			change: func(f *Facts, w *bootstrap.Tracing) { w.Enable = false; *f = Facts{HCMs: 2} },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := good
			f.Tracers = append([]Tracer(nil), good.Tracers...)
			w := tracingOn()
			tc.change(&f, &w)
			got := strings.Join(Problems(f, w), "\n")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("unexpected problems: %s", got)
			}
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("problems %q lack %q", got, want)
				}
			}
		})
	}
}
