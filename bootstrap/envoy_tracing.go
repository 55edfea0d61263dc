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
func zipkinConfig(t Tracing) *tracev3.ZipkinConfig {
	return &tracev3.ZipkinConfig{
		CollectorCluster:         TracingClusterName,
		CollectorEndpoint:        t.Endpoint,
		CollectorEndpointVersion: tracev3.ZipkinConfig_HTTP_JSON,
		CollectorHostname:        hostHeader(t.Address),
		TraceId_128Bit:           true,
		SharedSpanContext:        wrapperspb.Bool(false),
	}
}

// hostHeader brackets an IPv6 literal, as a Host header requires.
func hostHeader(address string) string {
	if ip, err := netip.ParseAddr(address); err == nil && ip.Is6() {
		return "[" + address + "]"
	}
	return address
}
