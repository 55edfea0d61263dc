package envoystandin

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// TraceParent is a W3C traceparent header's ids and sampled flag.
type TraceParent struct {
	TraceID, ParentID string // lower-case hex, 16 and 8 bytes
	Sampled           bool
}

// ParseTraceParent reads a traceparent header (version 00 form; a later version's first four
// fields), or reports false when it is absent or invalid: the OpenTelemetry tracer then
// starts a new trace.
func ParseTraceParent(v string) (TraceParent, bool) {
	f := strings.Split(strings.TrimSpace(v), "-")
	if len(f) < 4 || len(f[0]) != 2 || f[0] == "ff" || (f[0] == "00" && len(f) != 4) || len(f[3]) != 2 {
		return TraceParent{}, false
	}
	if _, err := hex.DecodeString(f[0]); err != nil || !isHexID(f[1], 16) || !isHexID(f[2], 8) {
		return TraceParent{}, false
	}
	flags, err := hex.DecodeString(f[3])
	if err != nil {
		return TraceParent{}, false
	}
	return TraceParent{TraceID: f[1], ParentID: f[2], Sampled: flags[0]&1 == 1}, true
}

// SampledW3C is the OpenTelemetry tracer's decision: the caller's traceparent sampled flag
// when it has one, else random at percent.
func SampledW3C(h http.Header, percent float64) bool {
	if tp, ok := ParseTraceParent(h.Get("Traceparent")); ok {
		return tp.Sampled
	}
	return Sampled(http.Header{}, percent)
}

// NewOTLPSpan is the OpenTelemetry span of an exchange: SERVER on the inbound listener,
// CLIENT on the outbound one, in the trace of the request's traceparent (a child of its
// span) or in a new one, named name, with the HTTP facts and tags as attributes. It is
// returned with its trace and span ids in hex.
func NewOTLPSpan(nodeID string, x Exchange, name string, tags map[string]string) (span *tracepb.Span, traceID, spanID string) {
	kind := tracepb.Span_SPAN_KIND_CLIENT
	if x.Listener != bootstrap.OutboundListenerName {
		kind = tracepb.Span_SPAN_KIND_SERVER
	}
	traceID, parent := randomHex(16), ""
	if tp, ok := ParseTraceParent(x.Header.Get("Traceparent")); ok {
		traceID, parent = tp.TraceID, tp.ParentID
	}
	spanID = randomHex(8)
	attrs := httpTags(nodeID, x)
	maps.Copy(attrs, tags)
	span = &tracepb.Span{
		TraceId:           mustHex(traceID),
		SpanId:            mustHex(spanID),
		ParentSpanId:      mustHex(parent),
		Name:              name,
		Kind:              kind,
		StartTimeUnixNano: uint64(x.Start.UnixNano()),
		EndTimeUnixNano:   uint64(x.End.UnixNano()),
		Attributes:        keyValues(attrs),
	}
	if x.Status >= 500 {
		span.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}
	}
	return span, traceID, spanID
}

// OTLPExporter exports spans with OTLP over gRPC, plaintext HTTP/2 (h2c), as Envoy's
// envoy_grpc client does to a cluster without TLS.
type OTLPExporter struct {
	// Target names the collector in events: grpc://HOST:PORT.
	Target   string
	conn     *grpc.ClientConn
	client   coltracepb.TraceServiceClient
	resource *resourcepb.Resource
}

// NewOTLPExporter exports to collector (host:port, a DNS name or an IP) with the given
// :authority and resource. The connection is made on the first export.
func NewOTLPExporter(collector, authority string, resource map[string]string) (*OTLPExporter, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if authority != "" {
		opts = append(opts, grpc.WithAuthority(authority))
	}
	// passthrough: the system resolver resolves the name at each connection, as Envoy's
	// STRICT_DNS cluster does, without gRPC's own DNS resolver and its service config lookups.
	conn, err := grpc.NewClient("passthrough:///"+collector, opts...)
	if err != nil {
		return nil, fmt.Errorf("envoy stand-in: the OTLP collector %s: %w", collector, err)
	}
	return &OTLPExporter{Target: "grpc://" + collector, conn: conn, client: coltracepb.NewTraceServiceClient(conn),
		resource: &resourcepb.Resource{Attributes: keyValues(resource)}}, nil
}

// Export sends spans in one ExportTraceServiceRequest. Spans the collector says it rejected
// (partial_success) are an error.
func (e *OTLPExporter) Export(ctx context.Context, spans ...*tracepb.Span) error {
	resp, err := e.client.Export(ctx, &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   e.resource,
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: TracerComponent}, Spans: spans}},
	}}})
	if err != nil {
		return err
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedSpans() > 0 {
		return fmt.Errorf("the collector rejected %d spans: %s", ps.GetRejectedSpans(), ps.GetErrorMessage())
	}
	return nil
}

// Close closes the connection.
func (e *OTLPExporter) Close() error { return e.conn.Close() }

// keyValues are string attributes, sorted by key so that requests are stable.
func keyValues(m map[string]string) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: m[k]}}})
	}
	return out
}

// mustHex decodes an id this package made or checked (nil for "").
func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	if len(b) == 0 {
		return nil
	}
	return b
}
