package bootstrap

import (
	"net/netip"

	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ZipkinTracerName is the tracer of the inbound and outbound HTTP connection managers when
// tracing is on.
const ZipkinTracerName = "envoy.tracers.zipkin"

// hcmTracing is the tracing block of a traffic HTTP connection manager: the Zipkin tracer
// and random sampling of new traces. It returns nil when tracing is disabled.
func (bl *builder) hcmTracing(t Tracing) (*hcmv3.HttpConnectionManager_Tracing, error) {
	if !t.Enable {
		return nil, nil
	}
	zipkin, err := bl.pack(zipkinConfig(t))
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpConnectionManager_Tracing{
		Provider: &tracev3.Tracing_Http{
			Name:       ZipkinTracerName,
			ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: zipkin},
		},
		RandomSampling: &typev3.Percent{Value: t.Sampling},
	}, nil
}

// zipkinConfig posts Zipkin v2 JSON spans through the tracing cluster.
//
// shared_span_context is false: the inbound sidecar then opens its own server span, a child
// of the caller's client span, instead of reusing the client's span id (Zipkin v1's shared
// span, Envoy's default). Jaeger models one span per id; shared ids show up as merged spans
// with clock-skew warnings, whereas distinct ids give a clean bookbuyer -> bookstore tree.
// collector_hostname is the collector's address so the POST carries its real Host header
// rather than the cluster name.
//
// With PropagationB3W3C, trace_context_option USE_B3_WITH_W3C_PROPAGATION makes the tracer
// take the caller's context from B3 headers, else from W3C traceparent, and send both
// upstream. In Istio, W3C trace context comes with its OpenTelemetry tracer provider, while
// its Zipkin provider speaks B3; we keep the Zipkin tracer (the contract's, and what Jaeger's
// Zipkin port takes) and add W3C to it, B3 first, so B3-only services see no change. b3
// (USE_B3, Envoy's default, left unset) remains for those who want no traceparent written.
func zipkinConfig(t Tracing) *tracev3.ZipkinConfig {
	z := &tracev3.ZipkinConfig{
		CollectorCluster:         TracingClusterName,
		CollectorEndpoint:        t.Endpoint,
		CollectorEndpointVersion: tracev3.ZipkinConfig_HTTP_JSON,
		CollectorHostname:        hostHeader(t.Address),
		TraceId_128Bit:           true,
		SharedSpanContext:        wrapperspb.Bool(false),
	}
	if t.Propagation == PropagationB3W3C {
		z.TraceContextOption = tracev3.ZipkinConfig_USE_B3_WITH_W3C_PROPAGATION
	}
	return z
}

// hostHeader brackets an IPv6 literal, as a Host header requires.
func hostHeader(address string) string {
	if ip, err := netip.ParseAddr(address); err == nil && ip.Is6() {
		return "[" + address + "]"
	}
	return address
}
