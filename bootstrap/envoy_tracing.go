package bootstrap

import (
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	detectorsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	typev3tag "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The tracers of the inbound and outbound HTTP connection managers when tracing is on, by
// protocol.
const (
	ZipkinTracerName        = "envoy.tracers.zipkin"
	OpenTelemetryTracerName = "envoy.tracers.opentelemetry"
)

// hcmTracing is the tracing block of a traffic HTTP connection manager: the protocol's tracer,
// random sampling of new traces, the span name (operation, an Envoy format string; see
// DefaultInboundSpanName) and the span tags: the user's, and with Zipkin the Kubernetes ones
// (with OpenTelemetry those are resource attributes; see openTelemetryConfig). It returns nil
// when tracing is disabled.
//
// Sampling follows the caller: random_sampling is the only sampling set. Envoy applies it
// only to a request that carries no decision (ConnectionManagerUtility::
// mutateTracingRequestHeader, source/common/http/conn_manager_utility.cc, leaves a trace
// reason already in x-request-id alone), and the tracers prefer the decision the request
// carries over the HCM's: the Zipkin tracer's x-b3-sampled or traceparent flags
// (source/extensions/tracers/zipkin/span_context_extractor.cc), the OpenTelemetry tracer's
// parent sampled flag when no sampler is set (source/extensions/tracers/opentelemetry/
// tracer.cc). overall_sampling and client_sampling stay at their default, 100%, so they never
// undo a caller's decision. The rules table holds all this (checkSamplingFollowsCaller).
func (bl *builder) hcmTracing(t Tracing, serviceName string, workload Workload, operation string) (*hcmv3.HttpConnectionManager_Tracing, error) {
	if !t.Enable {
		return nil, nil
	}
	name, tags := ZipkinTracerName, append(kubernetesTags(workload), extraTags(t.Tags)...)
	var config proto.Message = zipkinConfig(t)
	if t.Protocol == ProtocolOpenTelemetry {
		otel, err := bl.openTelemetryConfig(t, serviceName, workload)
		if err != nil {
			return nil, err
		}
		name, config, tags = OpenTelemetryTracerName, otel, extraTags(t.Tags)
	}
	typed, err := bl.pack(config)
	if err != nil {
		return nil, err
	}
	tr := &hcmv3.HttpConnectionManager_Tracing{
		Provider: &tracev3.Tracing_Http{
			Name:       name,
			ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: typed},
		},
		RandomSampling: &typev3.Percent{Value: t.Sampling},
		CustomTags:     tags,
		Operation:      operation,
	}
	if t.MaxPathTagLength != 0 {
		tr.MaxPathTagLength = wrapperspb.UInt32(t.MaxPathTagLength)
	}
	return tr, nil
}

// extraTags are the user's span tags (Tracing.Tags, canonical, sorted by name): a literal,
// or a request header's value (Envoy adds no tag when the request lacks the header).
func extraTags(canonical string) []*typev3tag.CustomTag {
	if canonical == "" {
		return nil
	}
	var tags []*typev3tag.CustomTag
	for line := range strings.SplitSeq(canonical, "\n") {
		name, v, _ := strings.Cut(line, "=")
		if h, ok := strings.CutPrefix(v, tagHeader); ok {
			tags = append(tags, &typev3tag.CustomTag{Tag: name, Type: &typev3tag.CustomTag_RequestHeader{
				RequestHeader: &typev3tag.CustomTag_Header{Name: h}}})
			continue
		}
		tags = append(tags, &typev3tag.CustomTag{Tag: name, Type: &typev3tag.CustomTag_Literal_{
			Literal: &typev3tag.CustomTag_Literal{Value: strings.TrimPrefix(v, tagLiteral)}}})
	}
	return tags
}

// kubernetesTags are the span tags every traced request carries: the pod, namespace and node
// from the envoy container's environment (one bootstrap serves every pod of a workload) and
// the workload's name, which is the same for all of them, as a literal.
func kubernetesTags(w Workload) []*typev3tag.CustomTag {
	env := func(tag, name string) *typev3tag.CustomTag {
		return &typev3tag.CustomTag{Tag: tag, Type: &typev3tag.CustomTag_Environment_{Environment: &typev3tag.CustomTag_Environment{Name: name}}}
	}
	tags := []*typev3tag.CustomTag{
		env(TagPodName, EnvPodName),
		env(TagNamespaceName, EnvPodNamespace),
		env(TagNodeName, EnvNodeName),
	}
	if tag := WorkloadTag(w); tag != "" {
		tags = append(tags, &typev3tag.CustomTag{Tag: tag, Type: &typev3tag.CustomTag_Literal_{Literal: &typev3tag.CustomTag_Literal{Value: w.Name}}})
	}
	return tags
}

// openTelemetryConfig exports OTLP over gRPC through the tracing cluster, with Envoy's own
// gRPC client (envoy_grpc), which needs the cluster to speak HTTP/2 (tracingCluster). The
// service_name is the resource's service.name, what Jaeger lists as the service: the same
// name the Zipkin tracer takes from node.cluster. The :authority is the collector's address,
// as the Zipkin tracer's Host header is, rather than the cluster name.
//
// The Kubernetes facts are the resource's attributes (see EnvResourceAttributes): the
// environment detector reads the pod's, namespace's and node's from OTEL_RESOURCE_ATTRIBUTES,
// which the injector sets on the envoy container, and the static_config detector adds the
// workload's name, the same in every pod of the workload (config checked,
// checkResourceAttributes; no test here runs Envoy's tracer).
//
// Propagation: the OpenTelemetry tracer reads and writes W3C traceparent and tracestate
// only, whatever Tracing.Propagation says (it has no B3 option), so b3 and b3+w3c give the
// same bootstrap. A B3-only caller's context is then not joined; such meshes keep zipkin.
func (bl *builder) openTelemetryConfig(t Tracing, serviceName string, workload Workload) (*tracev3.OpenTelemetryConfig, error) {
	env, err := bl.pack(&detectorsv3.EnvironmentResourceDetectorConfig{})
	if err != nil {
		return nil, err
	}
	detectors := []*corev3.TypedExtensionConfig{{Name: EnvironmentDetectorName, TypedConfig: env}}
	if tag := WorkloadTag(workload); tag != "" {
		static, err := bl.pack(&detectorsv3.StaticConfigResourceDetectorConfig{Attributes: map[string]string{tag: workload.Name}})
		if err != nil {
			return nil, err
		}
		detectors = append(detectors, &corev3.TypedExtensionConfig{Name: StaticConfigDetectorName, TypedConfig: static})
	}
	return &tracev3.OpenTelemetryConfig{
		GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
			ClusterName: TracingClusterName,
			Authority:   hostHeader(t.Address),
		}}},
		ServiceName:       serviceName,
		ResourceDetectors: detectors,
	}, nil
}

// The OpenTelemetry tracer's resource detectors.
const (
	EnvironmentDetectorName  = "envoy.tracers.opentelemetry.resource_detectors.environment"
	StaticConfigDetectorName = "envoy.tracers.opentelemetry.resource_detectors.static_config"
)

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
