package bootstrap

import (
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	http_inspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	original_dstv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Listener names in the bootstrap, the readiness path served on HealthPort, and the admin
// path that fails Envoy's health check.
const (
	OutboundListenerName = "outbound"
	InboundListenerName  = "inbound"
	HealthListenerName   = "health"
	// HealthReadyPath on HealthPort is the sidecar's readiness probe, proxied to the admin
	// interface's /ready: 200 "LIVE" once Envoy is ready, 503 while it starts, and 503
	// "DRAINING" from the failing of its health check on (see drainType).
	HealthReadyPath = "/healthz/ready"
	// AdminHealthcheckFailPath on the admin interface (POST) fails Envoy's health check: the
	// sidecar's preStop hook sends it as the pod starts terminating, and the listeners drain
	// (see drainType); POST /healthcheck/ok would undo it.
	AdminHealthcheckFailPath = "/healthcheck/fail"
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
// the connection continues to the TCP chain, so server-first protocols (MySQL, SMTP, ...) on
// ports nobody declared pass after this delay instead of being closed; the declared ones
// (Settings.ServerFirstPorts) skip the inspector and do not wait.
const captureTimeout = time.Second

// Addresses the listeners bind, besides the admin interface's loopback AdminAddress.
const (
	anyIPv4 = "0.0.0.0"
	anyIPv6 = "::"
)

// captureListener is the listener iptables redirects one direction's traffic to. It restores
// the original destination, sends HTTP through an HCM (traced when tracing is on) and any
// other TCP untouched through tcp_proxy; both end at cluster, an ORIGINAL_DST cluster.
// Connections to Envoy's own capture ports end in the blackhole (see loopGuards); those to
// the serverFirst ports are not inspected.
//
// The connections it accepts are kept alive (see TCPKeepaliveTime). tcp_keepalive (Envoy
// 1.37) sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT on the listening socket
// before it is bound (STATE_PREBIND, as Envoy's SocketOptionFactory builds them), and Linux
// copies a listening socket's keepalive settings into every socket accept() returns; the [::]
// address inherits the listener's setting, having none of its own. It does what the raw
// socket_options entries (level 1 name 9, level 6 names 4, 5, 6) with STATE_PREBIND or
// STATE_LISTENING do, both of which apply to the listening socket, but typed and readable.
// The leg that matters is the inbound one: its callers are remote. The outbound listener's
// are the application itself, in the same network namespace, where a probe costs nothing and
// the two listeners stay alike.
func (bl *builder) captureListener(name string, port uint32, direction corev3.TrafficDirection, cluster string, tracing *hcmv3.HttpConnectionManager_Tracing, serverFirst []uint32, accessLog bool) (*listenerv3.Listener, error) {
	filters, err := bl.listenerFilters(serverFirst)
	if err != nil {
		return nil, err
	}
	inbound := direction == corev3.TrafficDirection_INBOUND
	var localReply *hcmv3.LocalReplyConfig
	if inbound {
		localReply = notProcessedReply()
	}
	var httpLog, tcpLog []*accesslogv3.AccessLog
	if accessLog {
		var probes *accesslogv3.AccessLogFilter
		if inbound {
			probes = notProbes()
		}
		if httpLog, err = bl.stdoutAccessLog(accessLogFormat(AccessLogHTTPFormat, name), probes); err != nil {
			return nil, err
		}
		if tcpLog, err = bl.stdoutAccessLog(accessLogFormat(AccessLogTCPFormat, name), nil); err != nil {
			return nil, err
		}
	}
	hcm, err := bl.hcmFilter(name, bl.passthroughRoutes(name, cluster, inbound), tracing, true, localReply, httpLog)
	if err != nil {
		return nil, err
	}
	tcp, err := bl.tcpChain(name, cluster, tcpLog)
	if err != nil {
		return nil, err
	}
	chains, err := bl.loopGuards(name)
	if err != nil {
		return nil, err
	}
	chains = append(chains, &listenerv3.FilterChain{
		Name:             name + "-http",
		FilterChainMatch: &listenerv3.FilterChainMatch{ApplicationProtocols: httpProtocols()},
		Filters:          []*listenerv3.Filter{hcm},
	})
	return &listenerv3.Listener{
		Name:                             name,
		Address:                          socketAddress(anyIPv4, port),
		AdditionalAddresses:              dualStack(port),
		TrafficDirection:                 direction,
		ListenerFilters:                  filters,
		ListenerFiltersTimeout:           durationpb.New(captureTimeout),
		ContinueOnListenerFiltersTimeout: true,
		FilterChains:                     chains,
		DefaultFilterChain:               tcp,
		TcpKeepalive:                     tcpKeepalive(),
		DrainType:                        drainType(direction),
	}, nil
}

// drainType is how a capture listener takes the failing of Envoy's health check (POST
// AdminHealthcheckFailPath), which the sidecar's preStop hook sends as soon as the pod starts
// terminating, while the application still runs. From then on, a DEFAULT listener's HCM
// drain-closes every connection at its next response: on HTTP/1.1 the response carries
// Connection: close, after which the client closes the connection (RFC 9112, section 9.6),
// or Envoy does at the HCM's drain_timeout (5 s); on HTTP/2 a GOAWAY goes out before it and
// the client opens no more streams there. It does so at once, not over the gradual ramp
// of --drain-time-s: Envoy's drain manager answers drainClose for a DEFAULT listener as soon
// as the health check is failed (source/server/drain_manager_impl.cc,
// DrainManagerImpl::drainClose), and Envoy's server-wide drain manager is MODIFY_ONLY, so the
// listener's own drain_type decides. No health_check HTTP filter is involved (the proto's
// "along with the health check filter" is that filter failing its own checks from the same
// state). So callers' pooled connections to this pod close after their next response, and
// their next connections go through kube-proxy to pods still in the Service. The inbound
// listener stays DEFAULT, as does the health listener.
//
// The outbound listener is MODIFY_ONLY: it drains only when it is modified or removed (by
// LDS, or on a hot restart: never, with a static bootstrap). Its connections are the
// application's own, to its local Envoy; the application keeps making requests while it
// shuts down (finishing its work, flushing, deregistering), and closing them would only make
// it reconnect to the same Envoy. Istio gets the same split by traffic direction: pilot-agent
// drains with drain_listeners?inboundonly&graceful, which leaves OUTBOUND listeners alone;
// /healthcheck/fail knows no direction, so drain_type tells them apart here. (Envoy Gateway
// makes all its listeners MODIFY_ONLY for the opposite reason: to fail the health check on
// shutdown without draining by it.)
//
// Only the HTTP chains drain: tcp_proxy has no drain, so a TCP connection stays until one of
// its ends closes it.
func drainType(direction corev3.TrafficDirection) listenerv3.Listener_DrainType {
	if direction == corev3.TrafficDirection_OUTBOUND {
		return listenerv3.Listener_MODIFY_ONLY
	}
	return listenerv3.Listener_DEFAULT
}

// dualStack is the IPv6 twin of a listener's 0.0.0.0 address: [::] on the same port, as Istio
// binds on dual-stack clusters. ipv4_compat stays false, so the [::] socket is IPv6-only
// (IPV6_V6ONLY) and does not collide with the 0.0.0.0 one.
//
// Every listener but admin binds both families, always, instead of asking the pod which it
// has: on an IPv6-only or dual-stack cluster the init script redirects IPv6 traffic with
// ip6tables to the same ports, and the kubelet probes the health port at the pod's IPv6
// address; on an IPv4-only cluster the [::] socket costs nothing. Istio binds [::] only when
// told the cluster is dual-stack; we would rather have one bootstrap that works everywhere.
//
// The one node it cannot work on is one whose kernel has IPv6 compiled out or disabled at
// boot (ipv6.disable=1; the sysctl disable_ipv6 is fine, it keeps the address family):
// Envoy refuses the static listener ("IPv6 addresses are not supported on this machine") and
// exits, and, as a native sidecar, keeps the application from ever starting. Admission
// cannot know the node, so the ConfigMap also carries the bootstrap rendered without these
// addresses (Generated.IPv4YAML, key BootstrapIPv4Key), identical otherwise, and osm-init,
// which runs on the node before Envoy and knows whether its kernel has IPv6, points Envoy at
// the rendering the node can serve. The listeners are built once, dual-stack; the IPv4-only
// rendering is of a copy without these addresses (marshalRenderings).
func dualStack(port uint32) []*listenerv3.AdditionalAddress {
	return []*listenerv3.AdditionalAddress{{Address: socketAddress(anyIPv6, port)}}
}

// loopGuards are a capture listener's filter chains for connections whose (restored)
// destination is Envoy's own outbound or inbound capture port. Such a connection was not
// redirected (a port scan, a tool probing the pod's ports, or a client given the pod's
// address and one of these ports): its original destination is the listener itself, and
// passing it through would make Envoy dial itself, again and again, until it runs out of
// file descriptors. The chains end in the blackhole, which closes it; Istio does the same
// with its BlackHoleCluster.
//
// Envoy picks a filter chain by destination port before anything else (then destination IP,
// server name, transport protocol, application protocols...), and a chain that names the
// port beats chains that name none: these win over the HTTP chain whatever the inspector
// detects.
func (bl *builder) loopGuards(listener string) ([]*listenerv3.FilterChain, error) {
	// Both chains share one filter: it is only read, when the bootstrap is marshalled.
	tcp, err := bl.tcpProxyFilter(listener+"-loop", BlackholeCluster, nil, nil)
	if err != nil {
		return nil, err
	}
	var chains []*listenerv3.FilterChain
	for _, port := range []uint32{OutboundPort, InboundPort} {
		chains = append(chains, &listenerv3.FilterChain{
			Name:             listener + "-loop-" + formatInt(int64(port)),
			FilterChainMatch: &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(port)},
			Filters:          []*listenerv3.Filter{tcp},
		})
	}
	return chains, nil
}

// listenerFilters restore the original destination of a redirected connection and detect
// HTTP, for the filter chain match, except on the serverFirst ports: the inspector is
// disabled for them, so those connections find no application protocol and take the TCP
// chain at once. The predicate sees the restored destination port, since original_dst runs
// first.
func (bl *builder) listenerFilters(serverFirst []uint32) ([]*listenerv3.ListenerFilter, error) {
	if bl.captureFilters != nil { // both capture listeners have the same ones
		return bl.captureFilters, nil
	}
	originalDst, err := bl.listenerFilter(originalDstFilterName, &original_dstv3.OriginalDst{})
	if err != nil {
		return nil, err
	}
	inspector, err := bl.listenerFilter(httpInspectorFilterName, &http_inspectorv3.HttpInspector{})
	if err != nil {
		return nil, err
	}
	inspector.FilterDisabled = portsPredicate(serverFirst)
	bl.captureFilters = []*listenerv3.ListenerFilter{originalDst, inspector}
	return bl.captureFilters, nil
}

// portsPredicate matches connections whose destination port is one of ports (ascending,
// without repeats), or is nil when there are none. Runs of consecutive ports become one range
// (start inclusive, end exclusive); several ranges are or-ed (an or_match needs two rules at
// least, so a single range stands alone).
func portsPredicate(ports []uint32) *listenerv3.ListenerFilterChainMatchPredicate {
	var rules []*listenerv3.ListenerFilterChainMatchPredicate
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		rules = append(rules, &listenerv3.ListenerFilterChainMatchPredicate{
			Rule: &listenerv3.ListenerFilterChainMatchPredicate_DestinationPortRange{DestinationPortRange: &typev3.Int32Range{
				Start: int32(ports[i]),     //nolint:gosec // G115: a port, at most 65535
				End:   int32(ports[j]) + 1, //nolint:gosec // G115: a port, at most 65535
			}},
		})
		i = j + 1
	}
	switch len(rules) {
	case 0:
		return nil
	case 1:
		return rules[0]
	}
	return &listenerv3.ListenerFilterChainMatchPredicate{Rule: &listenerv3.ListenerFilterChainMatchPredicate_OrMatch{
		OrMatch: &listenerv3.ListenerFilterChainMatchPredicate_MatchSet{Rules: rules},
	}}
}

// tcpChain is a capture listener's default filter chain: whatever is not HTTP goes to cluster
// untouched, until it has been idle (no byte either way) for TCPIdleTimeout.
func (bl *builder) tcpChain(listener, cluster string, accessLog []*accesslogv3.AccessLog) (*listenerv3.FilterChain, error) {
	tcp, err := bl.tcpProxyFilter(listener, cluster, durationpb.New(TCPIdleTimeout), accessLog)
	if err != nil {
		return nil, err
	}
	return &listenerv3.FilterChain{Name: listener + "-tcp", Filters: []*listenerv3.Filter{tcp}}, nil
}

// TCPIdleTimeout is how long a connection on the TCP chain may stay silent both ways before
// Envoy closes it. A connection the application keeps busy is never cut, however long it
// lives: any byte, in either direction, restarts the clock (TCP keepalive probes carry none
// and do not).
//
// It is a backstop, hence a day. Finding dead peers is the keepalive's work (see
// TCPKeepaliveTime): a peer that vanished, or a FIN lost on the way (what Envoy warns an
// unbounded tcp_proxy can leak), is found within two minutes on either leg. What is left for
// an idle timeout is a connection both of whose ends are alive and silent: one a pool keeps
// for later, or one the application forgot. Cutting the first breaks the application's next
// use of it, which it would not see without the sidecar; keeping the second costs Envoy two
// descriptors and their buffers. So the clock is long: longer than the quiet night of a
// daytime workload and than MySQL's own wait_timeout (8 h, the shortest idle limit a common
// database server enforces by default), short enough that forgotten connections do not pile
// up for the pod's lifetime. Envoy's default, which Istio keeps, is 1 h: Istio users whose
// pooled Redis connections broke after an idle hour raise it to a day by hand
// (istio/istio#24387).
//
// The loop guards keep Envoy's default: their connections go to the blackhole and end at
// once.
const TCPIdleTimeout = 24 * time.Hour

// healthListener serves HealthReadyPath on every interface for the kubelet, as the admin
// interface's /ready (see adminPathListener). It carries no tracer on purpose: a span per
// readiness probe would bury the application's traces. Nor keepalive: the kubelet opens a
// connection per probe and closes it after the answer.
//
// Its drain_type is DEFAULT. Once the health check is failed (see drainType), the probe's
// answer is 503 "DRAINING": the admin interface's /ready answers 200 only in the state LIVE,
// and a server whose health check is failed is DRAINING
// (source/server/admin/server_info_handler.cc, handlerReady; Utility::serverState). The
// sidecar's readiness probe fails while the pod terminates, which is right: the pod's
// EndpointSlice entries turn serving false, and kube-proxy does not fall back on them even
// when no endpoint of the Service is ready any more.
func (bl *builder) healthListener() (*listenerv3.Listener, error) {
	return bl.adminPathListener(HealthListenerName, HealthPort, HealthReadyPath, "/ready")
}

// adminPathListener listens on port on every address of the pod and routes requests for
// path, and nothing else, to the admin interface on loopback (the path rewritten to rewrite,
// when set): the one piece of the admin interface the network may reach (config checked,
// checkAdminPathListener in the rules table). No tracer, no access log, no keepalive: its
// callers (the kubelet, Prometheus) come every few seconds, and a span or a log line each
// would bury the application's.
func (bl *builder) adminPathListener(name string, port uint32, path, rewrite string) (*listenerv3.Listener, error) {
	routes := &routev3.RouteConfiguration{
		Name: name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    name,
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: path}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: adminClusterName},
					PrefixRewrite:    rewrite,
				}},
			}},
		}},
	}
	hcm, err := bl.hcmFilter(name, routes, nil, false, nil, nil)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Listener{
		Name:                name,
		Address:             socketAddress(anyIPv4, port),
		AdditionalAddresses: dualStack(port),
		FilterChains:        []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcm}}},
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

// tcpProxyFilter forwards a connection's bytes untouched to cluster; idle, when set, is its
// idle timeout (nil: Envoy's default); accessLog logs each connection as it closes.
func (bl *builder) tcpProxyFilter(statPrefix, cluster string, idle *durationpb.Duration, accessLog []*accesslogv3.AccessLog) (*listenerv3.Filter, error) {
	typed, err := bl.pack(&tcp_proxyv3.TcpProxy{
		StatPrefix:       statPrefix,
		ClusterSpecifier: &tcp_proxyv3.TcpProxy_Cluster{Cluster: cluster},
		IdleTimeout:      idle,
		AccessLog:        accessLog,
	})
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: tcpProxyFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}, nil
}
