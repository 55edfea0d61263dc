package envoystandin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Config is what the stand-in takes from a bootstrap: where to listen, and where to send
// spans. It reads the bootstrap the project generates; anything it does not understand is an
// error rather than something silently skipped.
type Config struct {
	// NodeID and ServiceName are the bootstrap's node.id and node.cluster (the Zipkin
	// tracer's service name).
	NodeID, ServiceName string
	// Admin is the admin interface's host:port (127.0.0.1:15000).
	Admin string
	// Listeners are the static listeners, in the bootstrap's order.
	Listeners []Listener
	// Tracer is the traffic HCMs' tracer; nil when tracing is off.
	Tracer *Tracer
}

// Listener is one static listener: its name (bootstrap.OutboundListenerName,
// InboundListenerName, HealthListenerName or PrometheusListenerName) and every address it
// binds, host:port, the main one first, then the additional ones ([::]:PORT). A capture
// listener also has what its HCM and tcp_proxy say about spans and access logs.
type Listener struct {
	Name      string
	Addresses []string
	// Operation is the HCM's tracing.operation, the span name format; nil: Envoy's default
	// name ("ingress", "egress HOST").
	Operation *Format
	// Tags are the HCM's tracing custom_tags.
	Tags []CustomTag
	// HTTPLog is the HCM's stdout access log format, TCPLog the default filter chain's
	// tcp_proxy's; nil: none.
	HTTPLog, TCPLog *Format
	// HTTPLogSkips is the HTTP access log's filter: requests it keeps out; nil keeps none.
	HTTPLogSkips func(http.Header) bool
}

// Tracer is the tracer of the capture listeners' HTTP connection managers.
type Tracer struct {
	// Name is bootstrap.ZipkinTracerName or bootstrap.OpenTelemetryTracerName.
	Name string
	// Collector is the tracing cluster's endpoint, host:port (a DNS name or an IP).
	Collector string
	// Endpoint is the Zipkin collector path (/api/v2/spans); empty for OpenTelemetry.
	Endpoint string
	// Hostname is the Host header of the span POSTs (collector_hostname); empty: Collector.
	Hostname string
	// Sampling is the percentage of requests without a sampling decision that are sampled.
	Sampling float64
	// OTLP is the OpenTelemetry tracer's export; nil for Zipkin.
	OTLP *OTLPExport
}

// OTLPExport is what the OpenTelemetry tracer exports with: the :authority of its gRPC
// requests (envoy_grpc.authority, else the cluster's name, as Envoy's gRPC client does) and
// the resource of its spans.
type OTLPExport struct {
	Authority string
	// Resource is service.name (service_name) and the resource detectors' attributes,
	// resolved when the bootstrap is read.
	Resource map[string]string
}

// ReadConfig extracts the stand-in's Config from a parsed bootstrap.
func ReadConfig(b *bootstrapv3.Bootstrap) (Config, error) {
	c := Config{NodeID: b.GetNode().GetId(), ServiceName: b.GetNode().GetCluster()}
	admin, err := socketAddress(b.GetAdmin().GetAddress())
	if err != nil {
		return Config{}, fmt.Errorf("envoy stand-in: the admin address: %w", err)
	}
	c.Admin = admin
	for _, l := range b.GetStaticResources().GetListeners() {
		switch l.GetName() {
		case bootstrap.OutboundListenerName, bootstrap.InboundListenerName, bootstrap.HealthListenerName, bootstrap.PrometheusListenerName:
		default:
			return Config{}, fmt.Errorf("envoy stand-in: listener %q: it knows only %q, %q, %q and %q", l.GetName(),
				bootstrap.OutboundListenerName, bootstrap.InboundListenerName, bootstrap.HealthListenerName, bootstrap.PrometheusListenerName)
		}
		spec := Listener{Name: l.GetName()}
		addrs := []*corev3.Address{l.GetAddress()}
		for _, a := range l.GetAdditionalAddresses() {
			addrs = append(addrs, a.GetAddress())
		}
		for _, a := range addrs {
			hp, err := socketAddress(a)
			if err != nil {
				return Config{}, fmt.Errorf("envoy stand-in: listener %q: %w", l.GetName(), err)
			}
			spec.Addresses = append(spec.Addresses, hp)
		}
		if !bootstrap.IsCaptureListener(l.GetName()) {
			c.Listeners = append(c.Listeners, spec)
			continue
		}
		hcm, tcp, err := captureFilters(l)
		if err != nil {
			return Config{}, fmt.Errorf("envoy stand-in: listener %q: %w", l.GetName(), err)
		}
		if err := readCapture(&spec, hcm, tcp); err != nil {
			return Config{}, fmt.Errorf("envoy stand-in: listener %q: %w", l.GetName(), err)
		}
		c.Listeners = append(c.Listeners, spec)
		if tr := hcm.GetTracing(); tr != nil && c.Tracer == nil {
			if c.Tracer, err = readTracer(b, tr); err != nil {
				return Config{}, fmt.Errorf("envoy stand-in: listener %q: %w", l.GetName(), err)
			}
		}
	}
	if len(c.Listeners) == 0 {
		return Config{}, errors.New("envoy stand-in: the bootstrap has no static listener")
	}
	return c, nil
}

// socketAddress is a TCP socket address as host:port.
func socketAddress(a *corev3.Address) (string, error) {
	sa := a.GetSocketAddress()
	if sa == nil {
		return "", fmt.Errorf("%v is not a socket address", a)
	}
	if sa.GetProtocol() != corev3.SocketAddress_TCP {
		return "", fmt.Errorf("%s: only TCP is served", sa.GetAddress())
	}
	if _, ok := sa.GetPortSpecifier().(*corev3.SocketAddress_PortValue); !ok {
		return "", fmt.Errorf("%s: no port number", sa.GetAddress())
	}
	return net.JoinHostPort(sa.GetAddress(), strconv.FormatUint(uint64(sa.GetPortValue()), 10)), nil
}

// captureFilters are a capture listener's HTTP connection manager (the first among its
// filter chains) and its default filter chain's tcp_proxy, either nil when absent.
func captureFilters(l *listenerv3.Listener) (*hcmv3.HttpConnectionManager, *tcp_proxyv3.TcpProxy, error) {
	var hcm *hcmv3.HttpConnectionManager
	for _, fc := range append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...) {
		for _, f := range fc.GetFilters() {
			if hcm == nil && f.GetTypedConfig().MessageIs(&hcmv3.HttpConnectionManager{}) {
				hcm = &hcmv3.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
					return nil, nil, fmt.Errorf("filter %q: %w", f.GetName(), err)
				}
			}
		}
	}
	var tcp *tcp_proxyv3.TcpProxy
	for _, f := range l.GetDefaultFilterChain().GetFilters() {
		if f.GetTypedConfig().MessageIs(&tcp_proxyv3.TcpProxy{}) {
			tcp = &tcp_proxyv3.TcpProxy{}
			if err := f.GetTypedConfig().UnmarshalTo(tcp); err != nil {
				return nil, nil, fmt.Errorf("filter %q: %w", f.GetName(), err)
			}
		}
	}
	return hcm, tcp, nil
}

// readCapture reads the span name, custom tags and access logs of a capture listener.
func readCapture(spec *Listener, hcm *hcmv3.HttpConnectionManager, tcp *tcp_proxyv3.TcpProxy) error {
	var err error
	if op := hcm.GetTracing().GetOperation(); op != "" {
		if spec.Operation, err = ParseFormat(op, bootstrap.SpanNameCommands); err != nil {
			return fmt.Errorf("tracing operation: %w", err)
		}
	}
	if spec.Tags, err = readCustomTags(hcm.GetTracing().GetCustomTags(), osLookupEnv); err != nil {
		return err
	}
	if spec.HTTPLog, spec.HTTPLogSkips, err = stdoutLog(hcm.GetAccessLog()); err != nil {
		return fmt.Errorf("the HTTP connection manager's access log: %w", err)
	}
	var skips func(http.Header) bool
	if spec.TCPLog, skips, err = stdoutLog(tcp.GetAccessLog()); err != nil {
		return fmt.Errorf("tcp_proxy's access log: %w", err)
	}
	if skips != nil {
		return errors.New("tcp_proxy's access log: the stand-in filters HTTP requests only")
	}
	return nil
}

// stdoutLog is the format of the one stdout access log among logs, or nil, and its filter
// (nil: none). Other loggers, filters and formats are errors: the stand-in would not write
// what Envoy writes.
func stdoutLog(logs []*accesslogv3.AccessLog) (*Format, func(http.Header) bool, error) {
	var out *Format
	var skips func(http.Header) bool
	for _, l := range logs {
		var so streamv3.StdoutAccessLog
		if !l.GetTypedConfig().MessageIs(&so) || out != nil {
			return nil, nil, fmt.Errorf("%q: the stand-in writes one stdout access log only", l.GetName())
		}
		if f := l.GetFilter(); f != nil {
			var err error
			if skips, err = headerPrefixFilter(f); err != nil {
				return nil, nil, fmt.Errorf("%q: %w", l.GetName(), err)
			}
		}
		if err := l.GetTypedConfig().UnmarshalTo(&so); err != nil {
			return nil, nil, fmt.Errorf("%q: %w", l.GetName(), err)
		}
		src := so.GetLogFormat().GetTextFormatSource()
		if _, ok := src.GetSpecifier().(*corev3.DataSource_InlineString); !ok {
			return nil, nil, fmt.Errorf("%q: the stand-in takes a text_format_source inline_string only", l.GetName())
		}
		f, err := ParseFormat(src.GetInlineString(), nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%q: %w", l.GetName(), err)
		}
		out = f
	}
	return out, skips, nil
}

// headerPrefixFilter reads the one access log filter the stand-in applies, a header_filter
// whose matcher is a string prefix, maybe inverted, and returns the requests it keeps out of
// the log. Envoy logs a request when the matcher matches (after inversion); a request
// without the header does not match the prefix.
func headerPrefixFilter(f *accesslogv3.AccessLogFilter) (func(http.Header) bool, error) {
	m := f.GetHeaderFilter().GetHeader()
	prefix := m.GetStringMatch().GetPrefix()
	if m == nil || prefix == "" || m.GetStringMatch().GetIgnoreCase() {
		return nil, fmt.Errorf("the stand-in applies only a header_filter with a string prefix, not %v", f)
	}
	name, invert := m.GetName(), m.GetInvertMatch()
	return func(h http.Header) bool {
		v, ok := h[http.CanonicalHeaderKey(name)]
		matches := ok && len(v) > 0 && strings.HasPrefix(v[0], prefix)
		return matches == invert // logged when matches != invert
	}, nil
}

// readTracer reads the tracer of a tracing block and the collector address of its cluster.
func readTracer(b *bootstrapv3.Bootstrap, t *hcmv3.HttpConnectionManager_Tracing) (*Tracer, error) {
	p := t.GetProvider()
	out := &Tracer{Name: p.GetName(), Sampling: 100}
	if t.GetRandomSampling() != nil {
		out.Sampling = t.GetRandomSampling().GetValue()
	}
	var cluster string
	switch {
	case p.GetTypedConfig().MessageIs(&tracev3.ZipkinConfig{}):
		var z tracev3.ZipkinConfig
		if err := p.GetTypedConfig().UnmarshalTo(&z); err != nil {
			return nil, fmt.Errorf("tracer %q: %w", p.GetName(), err)
		}
		if z.GetCollectorEndpointVersion() != tracev3.ZipkinConfig_HTTP_JSON {
			return nil, fmt.Errorf("tracer %q: the stand-in posts Zipkin v2 JSON only, not %s", p.GetName(), z.GetCollectorEndpointVersion())
		}
		cluster, out.Endpoint, out.Hostname = z.GetCollectorCluster(), z.GetCollectorEndpoint(), z.GetCollectorHostname()
	case p.GetTypedConfig().MessageIs(&tracev3.OpenTelemetryConfig{}):
		var o tracev3.OpenTelemetryConfig
		if err := p.GetTypedConfig().UnmarshalTo(&o); err != nil {
			return nil, fmt.Errorf("tracer %q: %w", p.GetName(), err)
		}
		cluster = o.GetGrpcService().GetEnvoyGrpc().GetClusterName()
		export, err := readOTLP(&o)
		if err != nil {
			return nil, fmt.Errorf("tracer %q: %w", p.GetName(), err)
		}
		out.OTLP = export
	default:
		return nil, fmt.Errorf("tracer %q: unknown configuration %s", p.GetName(), p.GetTypedConfig().GetTypeUrl())
	}
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != cluster {
			continue
		}
		// The tracing cluster has one endpoint (bootstrap's loadAssignment).
		var endpoint *corev3.Address
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			if lbs := e.GetLbEndpoints(); len(lbs) > 0 && endpoint == nil {
				endpoint = lbs[0].GetEndpoint().GetAddress()
			}
		}
		if endpoint == nil {
			return nil, fmt.Errorf("tracer %q: cluster %q has no endpoint", p.GetName(), cluster)
		}
		hp, err := socketAddress(endpoint)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", cluster, err)
		}
		out.Collector = hp
		return out, nil
	}
	return nil, fmt.Errorf("tracer %q: no static cluster %q", p.GetName(), cluster)
}
