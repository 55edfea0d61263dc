package bootstrap

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	http_inspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	original_dstv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Listener names in the bootstrap, and the readiness path served on HealthPort.
const (
	OutboundListenerName = "outbound"
	InboundListenerName  = "inbound"
	HealthListenerName   = "health"
	// HealthReadyPath on HealthPort answers 200 once Envoy is ready (the sidecar's readiness
	// probe); it is proxied to the admin interface's /ready.
	HealthReadyPath = "/healthz/ready"
)

// Envoy's well-known listener and network filter names.
const (
	originalDstFilterName   = "envoy.filters.listener.original_dst"
	httpInspectorFilterName = "envoy.filters.listener.http_inspector"
	tcpProxyFilterName      = "envoy.filters.network.tcp_proxy"
)

// httpProtocols are the application protocols, as the HTTP inspector names them, that the
// HTTP filter chain handles. HTTP/1.0 is left to tcp_proxy: the HCM would answer it 426.
func httpProtocols() []string { return []string{"http/1.1", "h2c"} }

// captureTimeout bounds how long the HTTP inspector waits for a client's first bytes. After it
// the connection continues to the TCP chain, so server-first protocols (MySQL, SMTP, ...) pass
// after a short delay instead of being closed.
const captureTimeout = time.Second

// captureListener is the listener iptables redirects one direction's traffic to. It restores
// the original destination, sends HTTP through an HCM (traced when tracing is on) and any
// other TCP untouched through tcp_proxy; both end at cluster, an ORIGINAL_DST cluster.
func (bl *builder) captureListener(name string, port uint32, direction corev3.TrafficDirection, cluster string, tracing *hcmv3.HttpConnectionManager_Tracing) (*listenerv3.Listener, error) {
	filters, err := bl.listenerFilters()
	if err != nil {
		return nil, err
	}
	hcm, err := bl.hcmFilter(name, bl.passthroughRoutes(name, cluster), tracing)
	if err != nil {
		return nil, err
	}
	tcp, err := bl.tcpChain(name, cluster)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:                             name,
		Address:                          socketAddress("0.0.0.0", port),
		TrafficDirection:                 direction,
		ListenerFilters:                  filters,
		ListenerFiltersTimeout:           durationpb.New(captureTimeout),
		ContinueOnListenerFiltersTimeout: true,
		FilterChains: []*listenerv3.FilterChain{{
			Name:             name + "-http",
			FilterChainMatch: &listenerv3.FilterChainMatch{ApplicationProtocols: httpProtocols()},
			Filters:          []*listenerv3.Filter{hcm},
		}},
		DefaultFilterChain: tcp,
	}, nil
}

// listenerFilters restore the original destination of a redirected connection and detect
// HTTP, for the filter chain match.
func (bl *builder) listenerFilters() ([]*listenerv3.ListenerFilter, error) {
	originalDst, err := bl.listenerFilter(originalDstFilterName, &original_dstv3.OriginalDst{})
	if err != nil {
		return nil, err
	}
	inspector, err := bl.listenerFilter(httpInspectorFilterName, &http_inspectorv3.HttpInspector{})
	if err != nil {
		return nil, err
	}
	return []*listenerv3.ListenerFilter{originalDst, inspector}, nil
}

// tcpChain is a capture listener's default filter chain: whatever is not HTTP goes to cluster
// untouched.
func (bl *builder) tcpChain(listener, cluster string) (*listenerv3.FilterChain, error) {
	tcp, err := bl.tcpProxyFilter(listener, cluster)
	if err != nil {
		return nil, err
	}
	return &listenerv3.FilterChain{Name: listener + "-tcp", Filters: []*listenerv3.Filter{tcp}}, nil
}

// healthListener serves HealthReadyPath on every interface for the kubelet. It carries no
// tracer on purpose: a span per readiness probe would bury the application's traces.
func (bl *builder) healthListener() (*listenerv3.Listener, error) {
	hcm, err := bl.hcmFilter(HealthListenerName, healthRoutes(), nil)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:         HealthListenerName,
		Address:      socketAddress("0.0.0.0", HealthPort),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcm}}},
	}, nil
}

// listenerFilter wraps a listener filter's typed config.
func (bl *builder) listenerFilter(name string, config proto.Message) (*listenerv3.ListenerFilter, error) {
	typed, err := bl.pack(config)
	if err != nil {
		return nil, err
	}
	return &listenerv3.ListenerFilter{Name: name, ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: typed}}, nil
}

// tcpProxyFilter forwards a connection's bytes untouched to cluster.
func (bl *builder) tcpProxyFilter(statPrefix, cluster string) (*listenerv3.Filter, error) {
	typed, err := bl.pack(&tcp_proxyv3.TcpProxy{
		StatPrefix:       statPrefix,
		ClusterSpecifier: &tcp_proxyv3.TcpProxy_Cluster{Cluster: cluster},
	})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: tcpProxyFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}, nil
}
