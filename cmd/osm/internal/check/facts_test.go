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

func otlpOn() bootstrap.Tracing {
	t := tracingOn()
	t.Protocol, t.Port, t.Endpoint = bootstrap.ProtocolOpenTelemetry, bootstrap.DefaultOTLPPort, ""
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

func factsOfGenerated(t *testing.T, tr bootstrap.Tracing, service string) Facts {
	t.Helper()
	f, err := ReadFacts(generated(t, tr, service).YAML)
	if err != nil {
		t.Fatalf("ReadFacts of a generated bootstrap: %v", err)
	}
	return f
}

func TestReadFactsOfGeneratedBootstraps(t *testing.T) {
	for name, tc := range map[string]struct {
		tracing  bootstrap.Tracing
		kind     string
		port     uint32
		describe string
	}{
		"a Zipkin bootstrap": {
			tracing: tracingOn(), kind: bootstrap.ProtocolZipkin, port: 9411,
			describe: "envoy-tracing-cluster -> jaeger.osm-system.svc.cluster.local:9411, endpoint /api/v2/spans, service name bookbuyer",
		},
		"an OpenTelemetry bootstrap": {
			tracing: otlpOn(), kind: bootstrap.ProtocolOpenTelemetry, port: 4317,
			describe: "envoy-tracing-cluster -> jaeger.osm-system.svc.cluster.local:4317, OTLP/gRPC, service name bookbuyer",
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := factsOfGenerated(t, tc.tracing, "bookbuyer")
			if !f.TracingCluster || f.Address != "jaeger.osm-system.svc.cluster.local" || f.Port != tc.port {
				t.Errorf("facts of a tracing bootstrap: %+v", f)
			}
			if f.HCMs == 0 || len(f.Tracers) != f.HCMs {
				t.Errorf("every HCM should trace: %d HCMs, %d tracers", f.HCMs, len(f.Tracers))
			}
			for _, tr := range f.Tracers {
				if tr.Kind != tc.kind || tr.Cluster != bootstrap.TracingClusterName || tr.Sampling != "100%" {
					t.Errorf("tracer %+v, want a %s tracer sending through %s, sampling 100%%", tr, tc.kind, bootstrap.TracingClusterName)
				}
			}
			if got := f.Describe(); got != tc.describe {
				t.Errorf("Describe = %q, want %q", got, tc.describe)
			}
			if p := Diff(f, f); len(p) != 0 {
				t.Errorf("a generated bootstrap differs from itself: %v", p)
			}
		})
	}

	off := factsOfGenerated(t, bootstrap.Defaults("osm-system"), "bookbuyer")
	if off.TracingCluster || len(off.Tracers) != 0 {
		t.Errorf("facts of a bootstrap without tracing: %+v", off)
	}
	if _, err := ReadFacts([]byte("static_resources: {clusters: [{nme: x}]}")); err == nil {
		t.Error("ReadFacts accepted an unknown field")
	}
}

// TestDiff compares a bootstrap generated from one set of settings (the pod's) with one
// generated from another (what the pod should run now), as EvaluatePod does.
func TestDiff(t *testing.T) {
	tests := map[string]struct {
		// base is both sides' settings (Zipkin when nil); pod and now change one side.
		base     func() bootstrap.Tracing
		pod, now func(*bootstrap.Tracing)
		podSvc   string
		want     []string
	}{
		"the same Zipkin settings":        {},
		"the same OpenTelemetry settings": {base: otlpOn},
		"another address": {
			now:  func(tr *bootstrap.Tracing) { tr.Address = "otel.tracing.svc.cluster.local" },
			want: []string{"envoy-tracing-cluster points at jaeger.osm-system.svc.cluster.local:9411, not otel.tracing.svc.cluster.local:9411"},
		},
		"another port": {
			base: otlpOn,
			now:  func(tr *bootstrap.Tracing) { tr.Port = 14317 },
			want: []string{"points at jaeger.osm-system.svc.cluster.local:4317, not jaeger.osm-system.svc.cluster.local:14317"},
		},
		"another endpoint": {
			now:  func(tr *bootstrap.Tracing) { tr.Endpoint = "/zipkin" },
			want: []string{"the tracer of listeners outbound and inbound posts to /api/v2/spans, not /zipkin"},
		},
		"a Zipkin pod where OpenTelemetry is wanted": {
			now: func(tr *bootstrap.Tracing) { *tr = otlpOn() },
			want: []string{"points at jaeger.osm-system.svc.cluster.local:9411, not jaeger.osm-system.svc.cluster.local:4317",
				"is Zipkin (protocol zipkin), not OpenTelemetry (protocol opentelemetry, OTLP/gRPC)"},
		},
		"an OpenTelemetry pod where Zipkin is wanted": {
			base: otlpOn,
			now:  func(tr *bootstrap.Tracing) { *tr = tracingOn() },
			want: []string{"is OpenTelemetry (protocol opentelemetry, OTLP/gRPC), not Zipkin (protocol zipkin)"},
		},
		"another service name with Zipkin": {
			podSvc: "bookstore",
			want:   []string{"the tracer of listeners outbound and inbound reports service name bookstore, not bookbuyer"},
		},
		"another service name with OpenTelemetry": {
			base: otlpOn, podSvc: "bookstore",
			want: []string{"reports service name bookstore, not bookbuyer"},
		},
		"another sampling": {
			now:  func(tr *bootstrap.Tracing) { tr.Sampling = 12.5 },
			want: []string{"samples 100%, not 12.5%"},
		},
		"another propagation": {
			now:  func(tr *bootstrap.Tracing) { tr.Propagation = bootstrap.PropagationB3 },
			want: []string{"propagates B3 and W3C traceparent, not B3"},
		},
		"another tag": {
			now:  func(tr *bootstrap.Tracing) { tr.Tags = "team=literal:books" },
			want: []string{"tags spans with", "team=literal:books"},
		},
		"another http.url length": {
			now:  func(tr *bootstrap.Tracing) { tr.MaxPathTagLength = 512 },
			want: []string{"cuts the http.url tag at 0, not 512"},
		},
		"other span names": {
			now:  func(tr *bootstrap.Tracing) { tr.InboundSpanName = "%REQ(:METHOD)% inbound" },
			want: []string{`the tracer of listener inbound names spans %REQ(:METHOD)% :%DOWNSTREAM_LOCAL_PORT%, not %REQ(:METHOD)% inbound`},
		},
		"the access log turned on since": {
			now:  func(tr *bootstrap.Tracing) { tr.AccessLog = true },
			want: []string{"its access log is off, not on"},
		},
		"the access log turned on since, with tracing off": {
			base: func() bootstrap.Tracing { tr := tracingOn(); tr.Enable = false; return tr },
			now:  func(tr *bootstrap.Tracing) { tr.AccessLog = true },
			want: []string{"its access log is off, not on"},
		},
		"tracing turned on since": {
			pod:  func(tr *bootstrap.Tracing) { tr.Enable = false },
			want: []string{"it has no envoy-tracing-cluster (tracing is enabled)", "have no tracer"},
		},
		"tracing turned off since": {
			now:  func(tr *bootstrap.Tracing) { tr.Enable = false },
			want: []string{"has envoy-tracing-cluster although tracing is disabled", "have a tracer (Zipkin (protocol zipkin)) although tracing is disabled"},
		},
		"an OpenTelemetry pod, tracing turned off since": {
			base: otlpOn,
			now:  func(tr *bootstrap.Tracing) { tr.Enable = false },
			want: []string{"have a tracer (OpenTelemetry (protocol opentelemetry, OTLP/gRPC)) although tracing is disabled"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			base := tracingOn
			if tc.base != nil {
				base = tc.base
			}
			pod, now := base(), base()
			if tc.pod != nil {
				tc.pod(&pod)
			}
			if tc.now != nil {
				tc.now(&now)
			}
			svc := "bookbuyer"
			if tc.podSvc != "" {
				svc = tc.podSvc
			}
			got := strings.Join(Diff(factsOfGenerated(t, pod, svc), factsOfGenerated(t, now, "bookbuyer")), "\n")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("unexpected differences: %s", got)
			}
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("differences %q lack %q", got, want)
				}
			}
		})
	}
}

func TestDiffOfHandMadeFacts(t *testing.T) {
	want := factsOfGenerated(t, tracingOn(), "bookbuyer")
	have := want
	have.Tracers = have.Tracers[:1]
	if got := strings.Join(Diff(have, want), "\n"); !strings.Contains(got, "1 of 2 HTTP connection managers have no tracer") {
		t.Errorf("one HCM without a tracer: %q", got)
	}
	have = want
	have.Tracers = []Tracer{want.Tracers[0], want.Tracers[1]}
	have.Tracers[1].Cluster = "zipkin"
	if got := strings.Join(Diff(have, want), "\n"); !strings.Contains(got, "the tracer of listener "+want.Tracers[1].Listener+` sends to cluster "zipkin", not envoy-tracing-cluster`) {
		t.Errorf("a tracer sending elsewhere: %q", got)
	}
	have = want
	have.HCMs, have.Tracers = 0, nil
	if got := strings.Join(Diff(have, want), "\n"); !strings.Contains(got, "no HTTP connection manager to trace") {
		t.Errorf("no HCM: %q", got)
	}
}
