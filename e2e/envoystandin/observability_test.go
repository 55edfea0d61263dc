package envoystandin

import (
	"strings"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	detectorsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	typev3tag "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// The bootstrap's contract, as the generator writes it (bootstrap/observability.go), built
// here by hand so that the stand-in is tested on what Envoy would be given.

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func sockAddr(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

func stdoutAccessLog(t *testing.T, format string) []*accesslogv3.AccessLog {
	return []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.stdout", ConfigType: &accesslogv3.AccessLog_TypedConfig{
		TypedConfig: mustAny(t, &streamv3.StdoutAccessLog{AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{
			LogFormat: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
				TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: format}}}}}})}}}
}

func otelTracer(t *testing.T) *tracev3.Tracing_Http {
	return &tracev3.Tracing_Http{Name: bootstrap.OpenTelemetryTracerName, ConfigType: &tracev3.Tracing_Http_TypedConfig{
		TypedConfig: mustAny(t, &tracev3.OpenTelemetryConfig{
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{
				ClusterName: bootstrap.TracingClusterName, Authority: "jaeger.osm-system.svc.cluster.local"}}},
			ServiceName: "bookbuyer",
			ResourceDetectors: []*corev3.TypedExtensionConfig{
				{Name: bootstrap.EnvironmentDetectorName, TypedConfig: mustAny(t, &detectorsv3.EnvironmentResourceDetectorConfig{})},
				{Name: bootstrap.StaticConfigDetectorName, TypedConfig: mustAny(t, &detectorsv3.StaticConfigResourceDetectorConfig{
					Attributes: map[string]string{"k8s.deployment.name": "bookbuyer"}})},
			},
		})}}
}

func zipkinTracer(t *testing.T) *tracev3.Tracing_Http {
	return &tracev3.Tracing_Http{Name: bootstrap.ZipkinTracerName, ConfigType: &tracev3.Tracing_Http_TypedConfig{
		TypedConfig: mustAny(t, &tracev3.ZipkinConfig{CollectorCluster: bootstrap.TracingClusterName,
			CollectorEndpoint: "/api/v2/spans", CollectorEndpointVersion: tracev3.ZipkinConfig_HTTP_JSON})}}
}

// captureListener is a capture listener with an HCM (span name, tags, access log) and a
// default tcp_proxy chain with its access log.
func captureListener(t *testing.T, name string, port uint32, provider *tracev3.Tracing_Http, operation string, tags []*typev3tag.CustomTag) *listenerv3.Listener {
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: name,
		Tracing:   &hcmv3.HttpConnectionManager_Tracing{Provider: provider, Operation: operation, CustomTags: tags},
		AccessLog: stdoutAccessLog(t, strings.ReplaceAll(bootstrap.AccessLogHTTPFormat, "%DIRECTION%", name))}
	tcp := &tcp_proxyv3.TcpProxy{StatPrefix: name, ClusterSpecifier: &tcp_proxyv3.TcpProxy_Cluster{Cluster: "passthrough"},
		AccessLog: stdoutAccessLog(t, strings.ReplaceAll(bootstrap.AccessLogTCPFormat, "%DIRECTION%", name))}
	return &listenerv3.Listener{Name: name, Address: sockAddr("0.0.0.0", port),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)}}}}},
		DefaultFilterChain: &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, tcp)}}}}}
}

func envTag(tag, env string) *typev3tag.CustomTag {
	return &typev3tag.CustomTag{Tag: tag, Type: &typev3tag.CustomTag_Environment_{Environment: &typev3tag.CustomTag_Environment{Name: env}}}
}

func literalTag(tag, v string) *typev3tag.CustomTag {
	return &typev3tag.CustomTag{Tag: tag, Type: &typev3tag.CustomTag_Literal_{Literal: &typev3tag.CustomTag_Literal{Value: v}}}
}

func headerTag(tag, h string) *typev3tag.CustomTag {
	return &typev3tag.CustomTag{Tag: tag, Type: &typev3tag.CustomTag_RequestHeader{RequestHeader: &typev3tag.CustomTag_Header{Name: h}}}
}

// contractBootstrap is a bootstrap as the contract describes it, with the given tracer, the
// tracing cluster at collector:port and the prometheus listener.
func contractBootstrap(t *testing.T, provider *tracev3.Tracing_Http, collector string, port uint32, tags []*typev3tag.CustomTag) *bootstrapv3.Bootstrap {
	return &bootstrapv3.Bootstrap{
		Node:  &corev3.Node{Id: "bookbuyer-1.bookbuyer", Cluster: "bookbuyer"},
		Admin: &bootstrapv3.Admin{Address: sockAddr("127.0.0.1", bootstrap.AdminPort)},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: []*listenerv3.Listener{
				captureListener(t, bootstrap.OutboundListenerName, bootstrap.OutboundPort, provider, bootstrap.DefaultOutboundSpanName, tags),
				captureListener(t, bootstrap.InboundListenerName, bootstrap.InboundPort, provider, bootstrap.DefaultInboundSpanName, tags),
				{Name: bootstrap.PrometheusListenerName, Address: sockAddr("0.0.0.0", bootstrap.PrometheusPort),
					AdditionalAddresses: []*listenerv3.AdditionalAddress{{Address: sockAddr("::", bootstrap.PrometheusPort)}}},
			},
			Clusters: []*clusterv3.Cluster{{Name: bootstrap.TracingClusterName, LoadAssignment: &endpointv3.ClusterLoadAssignment{
				ClusterName: bootstrap.TracingClusterName,
				Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: sockAddr(collector, port)}}}}}}}}},
		},
	}
}

func TestReadConfigObservability(t *testing.T) {
	t.Setenv(bootstrap.EnvResourceAttributes, "k8s.pod.name=bookbuyer-1,k8s.namespace.name=bookbuyer,k8s.node.name=node%2D1")
	t.Setenv("POD_NAME", "bookbuyer-1")
	tags := []*typev3tag.CustomTag{envTag("k8s.pod.name", "POD_NAME"), envTag("absent", "NO_SUCH_VARIABLE_HERE"),
		literalTag("k8s.deployment.name", "bookbuyer"), headerTag("tenant", "X-Tenant-Id")}
	c, err := ReadConfig(contractBootstrap(t, otelTracer(t), "jaeger.osm-system.svc.cluster.local", 4317, tags))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Listeners[2]; got.Name != "prometheus" || !cmp.Equal(got.Addresses, []string{"0.0.0.0:15090", "[::]:15090"}) {
		t.Errorf("the prometheus listener: %+v", got)
	}
	out := c.Listeners[0]
	if out.Operation.Source != bootstrap.DefaultOutboundSpanName || out.HTTPLog == nil || out.TCPLog == nil ||
		!strings.HasPrefix(out.HTTPLog.Source, "[%START_TIME%] outbound ") {
		t.Errorf("outbound: operation %+v, logs %+v %+v", out.Operation, out.HTTPLog, out.TCPLog)
	}
	wantTags := []CustomTag{{Name: "k8s.pod.name", Value: "bookbuyer-1"}, {Name: "absent"},
		{Name: "k8s.deployment.name", Value: "bookbuyer"}, {Name: "tenant", Header: "x-tenant-id"}}
	if diff := cmp.Diff(wantTags, out.Tags); diff != "" {
		t.Errorf("custom tags (-want +got):\n%s", diff)
	}
	wantOTLP := &OTLPExport{Authority: "jaeger.osm-system.svc.cluster.local", Resource: map[string]string{
		"service.name": "bookbuyer", "telemetry.sdk.name": "envoy-standin", "telemetry.sdk.language": "go",
		"k8s.pod.name": "bookbuyer-1", "k8s.namespace.name": "bookbuyer", "k8s.node.name": "node-1",
		"k8s.deployment.name": "bookbuyer",
	}}
	if diff := cmp.Diff(wantOTLP, c.Tracer.OTLP); diff != "" {
		t.Errorf("the OTLP export (-want +got):\n%s", diff)
	}
	if c.Tracer.Collector != "jaeger.osm-system.svc.cluster.local:4317" {
		t.Errorf("collector %q", c.Tracer.Collector)
	}

	// What the stand-in cannot do as Envoy would is refused, not skipped.
	meta := &typev3tag.CustomTag{Tag: "m", Type: &typev3tag.CustomTag_Metadata_{Metadata: &typev3tag.CustomTag_Metadata{}}}
	if _, err := ReadConfig(contractBootstrap(t, otelTracer(t), "jaeger", 4317, []*typev3tag.CustomTag{meta})); err == nil {
		t.Error("a metadata custom tag was accepted")
	}
	b := contractBootstrap(t, zipkinTracer(t), "jaeger", 9411, nil)
	l := captureListener(t, "outbound", 15001, zipkinTracer(t), "%REQ(:METHOD)% %UPSTREAM_CLUSTER%", nil)
	b.StaticResources.Listeners[0] = l
	if _, err := ReadConfig(b); err == nil || !strings.Contains(err.Error(), "UPSTREAM_CLUSTER") {
		t.Errorf("a span name with a command outside SpanNameCommands: %v", err)
	}
}

func TestParseResourceAttributes(t *testing.T) {
	got := ParseResourceAttributes(" a=1 ,b=x%2Cy,bad,=v,c=%zz,d=e=f,plus=a+b")
	want := map[string]string{"a": "1", "b": "x,y", "d": "e=f", "plus": "a+b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
