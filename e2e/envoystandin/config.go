package envoystandin

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

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
// InboundListenerName or HealthListenerName) and every address it binds, host:port, the
// main one first, then the additional ones ([::]:PORT).
type Listener struct {
	Name      string
	Addresses []string
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
		case bootstrap.OutboundListenerName, bootstrap.InboundListenerName, bootstrap.HealthListenerName:
		default:
			return Config{}, fmt.Errorf("envoy stand-in: listener %q: it knows only %q, %q and %q", l.GetName(),
				bootstrap.OutboundListenerName, bootstrap.InboundListenerName, bootstrap.HealthListenerName)
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
		c.Listeners = append(c.Listeners, spec)
		if l.GetName() == bootstrap.HealthListenerName || c.Tracer != nil {
			continue
		}
		tr, err := listenerTracing(l)
		if err != nil {
			return Config{}, fmt.Errorf("envoy stand-in: listener %q: %w", l.GetName(), err)
		}
		if tr != nil {
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

// listenerTracing is the tracing block of the first HTTP connection manager among the
// listener's filter chains, or nil.
func listenerTracing(l *listenerv3.Listener) (*hcmv3.HttpConnectionManager_Tracing, error) {
	chains := append([]*listenerv3.FilterChain{l.GetDefaultFilterChain()}, l.GetFilterChains()...)
	for _, fc := range chains {
		for _, f := range fc.GetFilters() {
			if f.GetTypedConfig().MessageIs(&hcmv3.HttpConnectionManager{}) {
				var hcm hcmv3.HttpConnectionManager
				if err := f.GetTypedConfig().UnmarshalTo(&hcm); err != nil {
					return nil, fmt.Errorf("filter %q: %w", f.GetName(), err)
				}
				if hcm.GetTracing() != nil {
					return hcm.GetTracing(), nil
				}
			}
		}
	}
	return nil, nil
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
