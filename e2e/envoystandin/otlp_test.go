package envoystandin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	typev3tag "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// collector is an in-process OTLP/gRPC trace service, as Jaeger's 4317 or an OpenTelemetry
// collector's: it records each request and the :authority it came with.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu          sync.Mutex
	requests    []*coltracepb.ExportTraceServiceRequest
	authorities []string
}

func (c *collector) Export(ctx context.Context, r *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, r)
	c.authorities = append(c.authorities, strings.Join(md.Get(":authority"), ","))
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// startCollector serves the trace service on a free port of 127.0.0.1, plaintext.
func startCollector(t *testing.T) (*collector, int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c, ln.Addr().(*net.TCPAddr).Port
}

// TestOTLPExchange runs one traced exchange through the stand-in's server with the
// contract's OpenTelemetry bootstrap, against an in-process collector: one
// ExportTraceServiceRequest whose resource is service.name and the detectors' attributes,
// whose span is named by the HCM's operation, SERVER, a child of the caller's traceparent,
// with the custom tags; the access log line carries its trace id; the counters say so.
func TestOTLPExchange(t *testing.T) {
	t.Setenv(bootstrap.EnvResourceAttributes, "k8s.pod.name=bookstore-1,k8s.namespace.name=bookstore,k8s.node.name=node-1")
	col, port := startCollector(t)
	cfg, err := ReadConfig(contractBootstrap(t, otelTracer(t), "127.0.0.1", uint32(port),
		[]*typev3tag.CustomTag{literalTag("team", "payments"), headerTag("tenant", "x-tenant")}))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	events := NewEvents(&log)
	s := &server{events: events, cfg: cfg, metrics: NewMetrics(), byName: map[string]Listener{}}
	for _, l := range cfg.Listeners {
		s.byName[l.Name] = l
	}
	if s.otlp, err = NewOTLPExporter(cfg.Tracer.Collector, cfg.Tracer.OTLP.Authority, cfg.Tracer.OTLP.Resource); err != nil {
		t.Fatal(err)
	}
	defer s.otlp.Close()

	h := http.Header{}
	h.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.Set("X-Tenant", "acme")
	x := exchange(h)
	x.Listener = "inbound"
	s.exchange(x)
	s.spans.Wait()

	if len(col.requests) != 1 {
		t.Fatalf("the collector got %d requests; log:\n%s", len(col.requests), &log)
	}
	if col.authorities[0] != "jaeger.osm-system.svc.cluster.local" {
		t.Errorf(":authority %q", col.authorities[0])
	}
	rs := col.requests[0].GetResourceSpans()[0]
	resource := map[string]string{}
	for _, kv := range rs.GetResource().GetAttributes() {
		resource[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	wantResource := map[string]string{"service.name": "bookbuyer", "telemetry.sdk.name": "envoy-standin", "telemetry.sdk.language": "go",
		"k8s.pod.name": "bookstore-1", "k8s.namespace.name": "bookstore", "k8s.node.name": "node-1", "k8s.deployment.name": "bookbuyer"}
	if diff := cmp.Diff(wantResource, resource); diff != "" {
		t.Errorf("resource (-want +got):\n%s", diff)
	}
	span := rs.GetScopeSpans()[0].GetSpans()[0]
	attrs := map[string]string{}
	for _, kv := range span.GetAttributes() {
		attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	if span.GetName() != "GET :14001" || span.GetKind() != tracepb.Span_SPAN_KIND_SERVER ||
		hex.EncodeToString(span.GetTraceId()) != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		hex.EncodeToString(span.GetParentSpanId()) != "00f067aa0ba902b7" || len(span.GetSpanId()) != 8 {
		t.Errorf("span %v", span)
	}
	if attrs["team"] != "payments" || attrs["tenant"] != "acme" || attrs["http.status_code"] != "200" || attrs["component"] != TracerComponent {
		t.Errorf("attributes %v", attrs)
	}
	if _, ok := attrs["k8s.pod.name"]; ok {
		t.Errorf("a Kubernetes fact is a span attribute with OpenTelemetry: %v", attrs)
	}

	var sent map[string]any
	var accessLine string
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			accessLine = line
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("an event line is not JSON: %q", line)
		}
		if e["event"] == "span_sent" {
			sent = e
		}
	}
	if sent == nil || sent["grpc_status"] != "OK" || sent["name"] != "GET :14001" || sent["kind"] != "SPAN_KIND_SERVER" ||
		sent["collector"] != "grpc://127.0.0.1:"+strconv.Itoa(port) {
		t.Errorf("span_sent event %v; log:\n%s", sent, &log)
	}
	if !strings.HasPrefix(accessLine, "[2026-01-02T03:04:05.000Z] inbound \"GET /books-bought?x=1 HTTP/1.1\" 200 - 0 0 1ms") ||
		!strings.Contains(accessLine, "trace=4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("access log line %q", accessLine)
	}

	// The counters, parsed as Prometheus parses them, on the prometheus listener's path.
	w := httptest.NewRecorder()
	s.metrics.ServeHTTP(w, httptest.NewRequest(http.MethodGet, bootstrap.PrometheusPath, http.NoBody))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	count := func(name string) float64 {
		var n float64
		for _, m := range families[name].GetMetric() {
			n += m.GetCounter().GetValue()
		}
		return n
	}
	if count("envoystandin_http_requests_total") != 1 || count("envoystandin_spans_sent_total") != 1 || count("envoystandin_span_errors_total") != 0 {
		t.Errorf("counters: %v", families)
	}
}
