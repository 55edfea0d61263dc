package check

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// chartJaeger is the chart's Jaeger Service: named ports.
var chartJaeger = &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
	{Name: "zipkin", Port: 9411}, {Name: "ui", Port: 16686}, {Name: "otlp-grpc", Port: 4317}, {Name: "otlp-http", Port: 4318}}}}

func TestProtocolMismatch(t *testing.T) {
	const zipkin, otel = bootstrap.ProtocolZipkin, bootstrap.ProtocolOpenTelemetry
	// A collector whose ports say by name what they speak, at unusual numbers.
	renamed := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "http-zipkin", Port: 19411}, {Name: "grpc-otlp", Port: 14317}, {Name: "http-otlp", Port: 14318}}}}
	tests := []struct {
		name     string
		protocol string
		port     uint32
		svc      *corev1.Service
		fix      uint32 // 0: no mismatch
		problem  string
	}{
		{"zipkin to 9411", zipkin, 9411, chartJaeger, 0, ""},
		{"opentelemetry to 4317", otel, 4317, chartJaeger, 0, ""},
		{"opentelemetry to 9411, the chart's port after patching the protocol alone", otel, 9411, chartJaeger, 4317,
			"the protocol is opentelemetry (OTLP over gRPC), but port 9411 (zipkin) speaks Zipkin"},
		{"zipkin to 4317", zipkin, 4317, chartJaeger, 9411, "port 4317 (otlp-grpc) speaks OTLP over gRPC"},
		{"opentelemetry to Jaeger's OTLP/HTTP port", otel, 4318, chartJaeger, 4317, "port 4318 (otlp-http) speaks OTLP over HTTP, which neither protocol sends"},
		{"zipkin to Jaeger's OTLP/HTTP port", zipkin, 4318, chartJaeger, 9411, "port 4318 (otlp-http)"},
		{"names beat numbers: the fix is the Service's port", otel, 19411, renamed, 14317, "port 19411 (http-zipkin) speaks Zipkin"},
		{"named OTLP/gRPC port at another number", otel, 14317, renamed, 0, ""},
		{"outside the cluster: well-known numbers", otel, 9411, nil, 4317, "port 9411 speaks Zipkin"},
		{"outside the cluster: zipkin to 4317", zipkin, 4317, nil, 9411, "port 4317 speaks OTLP over gRPC"},
		{"an unknown port is not judged", otel, 5555, nil, 0, ""},
		{"an unnamed unknown Service port is not judged", zipkin, 8080, &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}}}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem, fix, bad := ProtocolMismatch(tt.protocol, tt.port, tt.svc)
			if bad != (tt.fix != 0) || fix != tt.fix {
				t.Fatalf("ProtocolMismatch(%s, %d) = %q, fix %d, %v; want fix %d", tt.protocol, tt.port, problem, fix, bad, tt.fix)
			}
			if !strings.Contains(problem, tt.problem) {
				t.Errorf("problem %q; want it to contain %q", problem, tt.problem)
			}
		})
	}
}

func TestMismatchHint(t *testing.T) {
	k := &checker{o: Options{MeshConfigName: "osm-mesh-config", ControlPlane: "osm-system"}, tracing: bootstrap.Tracing{Protocol: bootstrap.ProtocolOpenTelemetry}}
	want := `kubectl patch meshconfig osm-mesh-config -n osm-system --type=merge -p '{"spec":{"observability":{"tracing":{"port":4317}}}}'`
	if h := k.mismatchHint(4317); !strings.Contains(h, want) || !strings.Contains(h, `{"protocol":"zipkin","port":9411}`) {
		t.Errorf("hint %q; want it to contain %s and the switch to zipkin on 9411", h, want)
	}
}

// otlpSink is an OTLP/gRPC trace service that keeps what it receives.
type otlpSink struct {
	collectortrace.UnimplementedTraceServiceServer
	got chan *collectortrace.ExportTraceServiceRequest
}

func (s *otlpSink) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	s.got <- req
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func TestExportOTLP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	sink := &otlpSink{got: make(chan *collectortrace.ExportTraceServiceRequest, 1)}
	collectortrace.RegisterTraceServiceServer(srv, sink)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	now := time.Unix(1700000000, 0)
	traceID, req, err := NewOTLPTestSpan(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := ExportOTLP(t.Context(), lis.Addr().String(), req); err != nil {
		t.Fatalf("ExportOTLP: %v", err)
	}
	got := <-sink.got
	rs := got.GetResourceSpans()
	if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 || len(rs[0].GetScopeSpans()[0].GetSpans()) != 1 {
		t.Fatalf("received %v; want one span", got)
	}
	attrs := rs[0].GetResource().GetAttributes()
	if len(attrs) != 1 || attrs[0].GetKey() != "service.name" || attrs[0].GetValue().GetStringValue() != SpanServiceName {
		t.Errorf("resource attributes %v; want service.name=%s", attrs, SpanServiceName)
	}
	span := rs[0].GetScopeSpans()[0].GetSpans()[0]
	if len(traceID) != 32 || len(span.GetTraceId()) != 16 || len(span.GetSpanId()) != 8 {
		t.Errorf("trace id %q, span ids %x/%x; want 16 and 8 bytes", traceID, span.GetTraceId(), span.GetSpanId())
	}
	if span.GetStartTimeUnixNano() != uint64(now.UnixNano()) || span.GetEndTimeUnixNano() <= span.GetStartTimeUnixNano() {
		t.Errorf("span times %d..%d", span.GetStartTimeUnixNano(), span.GetEndTimeUnixNano())
	}

	srv.Stop()
	if err := ExportOTLP(t.Context(), lis.Addr().String(), req); err == nil || !strings.Contains(err.Error(), "OTLP/gRPC export failed") {
		t.Errorf("ExportOTLP to a stopped server: %v; want the export's failure", err)
	}
}
