package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	resourcev1 "go.opentelemetry.io/proto/otlp/resource/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// NewOTLPTestSpan makes an OTLP export request holding one span of service SpanServiceName
// with a fresh 128-bit trace id, and returns the id (hex) and the request.
func NewOTLPTestSpan(now time.Time) (string, *collectortrace.ExportTraceServiceRequest, error) {
	id := make([]byte, 24)
	if _, err := rand.Read(id); err != nil {
		return "", nil, err
	}
	str := func(k, v string) *commonv1.KeyValue {
		return &commonv1.KeyValue{Key: k, Value: &commonv1.AnyValue{Value: &commonv1.AnyValue_StringValue{StringValue: v}}}
	}
	start := uint64(now.UnixNano())
	req := &collectortrace.ExportTraceServiceRequest{ResourceSpans: []*tracev1.ResourceSpans{{
		Resource: &resourcev1.Resource{Attributes: []*commonv1.KeyValue{str("service.name", SpanServiceName)}},
		ScopeSpans: []*tracev1.ScopeSpans{{
			Scope: &commonv1.InstrumentationScope{Name: "osm tracing check"},
			Spans: []*tracev1.Span{{
				TraceId:           id[:16],
				SpanId:            id[16:],
				Name:              "osm tracing check",
				Kind:              tracev1.Span_SPAN_KIND_CLIENT,
				StartTimeUnixNano: start,
				EndTimeUnixNano:   start + uint64(time.Millisecond),
				Attributes:        []*commonv1.KeyValue{str("osm.check", "true")},
			}},
		}},
	}}}
	return hex.EncodeToString(id[:16]), req, nil
}

// ExportOTLP sends req to the OTLP/gRPC trace service at addr (host:port, plaintext) and
// reports a refusal, including a partial one.
func ExportOTLP(ctx context.Context, addr string, req *collectortrace.ExportTraceServiceRequest) error {
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := collectortrace.NewTraceServiceClient(conn).Export(rctx, req)
	if err != nil {
		return fmt.Errorf("the OTLP/gRPC export failed: %w", err)
	}
	if ps := resp.GetPartialSuccess(); ps != nil && ps.GetRejectedSpans() > 0 {
		return fmt.Errorf("the collector rejected %d span(s): %s", ps.GetRejectedSpans(), ps.GetErrorMessage())
	}
	return nil
}
