package bootstrap

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Envoy's well-known filter names.
const (
	hcmFilterName    = "envoy.filters.network.http_connection_manager"
	routerFilterName = "envoy.filters.http.router"
)

// Upgrade types the HCMs pass through.
const (
	upgradeWebSocket = "websocket"
	upgradeConnect   = "CONNECT"
)

// hcmFilter is the network filter of an HTTP connection manager that serves routes with
// tracing (nil: no tracer). Every HCM generates x-request-id when it is missing, so the first
// hop starts the trace (x-request-id and the x-b3-* headers), and passes WebSocket upgrades
// through (without an upgrade config the HCM refuses them). A traffic HCM, one of a capture
// listener, must be as transparent as the missing sidecar would be; see trafficOptions.
func (bl *builder) hcmFilter(statPrefix string, routes *routev3.RouteConfiguration, tracing *hcmv3.HttpConnectionManager_Tracing, traffic bool) (*listenerv3.Filter, error) {
	router, err := bl.routerFilter()
	if err != nil {
		return nil, err
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:        statPrefix,
		CodecType:         hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier:    &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: routes},
		HttpFilters:       []*hcmv3.HttpFilter{router},
		GenerateRequestId: wrapperspb.Bool(true),
		Tracing:           tracing,
		UpgradeConfigs:    []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: upgradeWebSocket}},
	}
	if traffic {
		trafficOptions(hcm)
	}
	typed, err := bl.pack(hcm)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}, nil
}

// trafficOptions are what a traffic HCM needs beyond the health listener's:
//
//   - stream_idle_timeout 0 (off). Envoy's default, 5 min, resets a stream with no bytes for
//     that long: an idle gRPC stream (a watch, a subscription), a long poll or a quiet
//     server-sent events response the application keeps open on purpose. Istio turns it off
//     too. The route timeout is off as well (passthroughRoutes); the application's own
//     timeouts rule.
//   - CONNECT upgrades, so an application behind an explicit forward proxy
//     (HTTPS_PROXY=http://proxy:3128) can open its tunnels; the route that takes them is in
//     passthroughRoutes. Without it the HCM answers CONNECT with an error.
//   - allow_absolute_url true, so a request in absolute form (GET http://host/ ..., what
//     HTTP_PROXY=http://proxy:3128 makes a client send) is accepted. It is Envoy's default
//     (source/common/http/http1/settings.cc), set explicitly so the bootstrap says it and a
//     change of default cannot take it away. Envoy still sends the request upstream in
//     origin form (GET / with a Host header), to the proxy the app dialled: we do not set the
//     cluster's send_fully_qualified_url, since it would rewrite every plain request, to
//     every server, into absolute form. Most proxies accept the origin form for plain HTTP,
//     but an application that depends on an absolute-form HTTP proxy should leave the
//     proxy's port out of the capture (annotation
//     openservicemesh.io/outbound-port-exclusion-list).
func trafficOptions(hcm *hcmv3.HttpConnectionManager) {
	hcm.StreamIdleTimeout = durationpb.New(0)
	hcm.HttpProtocolOptions = &corev3.Http1ProtocolOptions{AllowAbsoluteUrl: wrapperspb.Bool(true)}
	hcm.UpgradeConfigs = append(hcm.UpgradeConfigs, &hcmv3.HttpConnectionManager_UpgradeConfig{UpgradeType: upgradeConnect})
}

// routerFilter is the (typed) router, the last HTTP filter of every HCM. A builder makes one
// and shares it: every HCM is packed into its own bytes right away.
func (bl *builder) routerFilter() (*hcmv3.HttpFilter, error) {
	if bl.router == nil {
		router, err := bl.pack(&routerv3.Router{})
		if err != nil {
			return nil, err
		}
		bl.router = &hcmv3.HttpFilter{Name: routerFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}
	}
	return bl.router, nil
}

// Route names, as config_dump and access logs show them.
const (
	ProbeRouteName       = "kube-probe"
	ConnectRouteName     = "connect"
	PassthroughRouteName = "passthrough"
)

// ProbeUserAgentPrefix starts the User-Agent of the kubelet's HTTP and gRPC probes
// (kube-probe/1.31).
const ProbeUserAgentPrefix = "kube-probe/"

// passthroughRoutes sends every HTTP request, whatever its host or path, to cluster (an
// ORIGINAL_DST cluster, so the request goes where the application sent it). The route
// timeouts are off: the sidecar must not cut long requests, streams or tunnels the app
// allows.
//
// The CONNECT route comes before the "/" one (a CONNECT has no path, only a connect_matcher
// matches it). It has no connect_config on purpose: the CONNECT request itself is proxied to
// the address the application dialled, its forward proxy, which opens the tunnel; with
// connect_config Envoy would terminate the CONNECT and play the proxy itself.
//
// With probes (the inbound side), the first route takes the kubelet's probes: they still
// reach the application, so the probe answers what the application says, but are never
// sampled (see probeRoute).
func (bl *builder) passthroughRoutes(name, cluster string, probes bool) *routev3.RouteConfiguration {
	var routes []*routev3.Route
	if probes {
		routes = append(routes, probeRoute(cluster))
	}
	routes = append(routes,
		&routev3.Route{
			Name:   ConnectRouteName,
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_ConnectMatcher_{ConnectMatcher: &routev3.RouteMatch_ConnectMatcher{}}},
			Action: passthroughAction(cluster),
		},
		&routev3.Route{
			Name:   PassthroughRouteName,
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: passthroughAction(cluster),
		})
	return &routev3.RouteConfiguration{
		Name:         name,
		VirtualHosts: []*routev3.VirtualHost{{Name: name, Domains: []string{"*"}, Routes: routes}},
	}
}

// passthroughAction forwards to cluster without a route timeout.
func passthroughAction(cluster string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
		Timeout:          durationpb.New(0),
	}}
}

// probeRoute matches the kubelet's HTTP and gRPC probes by their User-Agent and forwards them
// like any request, with every sampling of the route's tracing at 0%: no span, however the
// HCM samples, and even when a probe carried x-client-trace-id. A probe every few seconds per
// container would otherwise bury the application's traces. The route must come first: the
// first matching route wins.
//
// The health listener needs nothing of the sort: it has no tracer at all.
func probeRoute(cluster string) *routev3.Route {
	return &routev3.Route{
		Name: ProbeRouteName,
		Match: &routev3.RouteMatch{
			PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers: []*routev3.HeaderMatcher{{
				Name: "user-agent",
				HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
					MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: ProbeUserAgentPrefix},
				}},
			}},
		},
		Action: passthroughAction(cluster),
		Tracing: &routev3.Tracing{
			ClientSampling:  &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_HUNDRED},
			RandomSampling:  &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_HUNDRED},
			OverallSampling: &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_HUNDRED},
		},
	}
}

// healthRoutes answers the readiness probe: GET /healthz/ready on the health port becomes
// GET /ready on the admin interface, which listens on loopback only.
func healthRoutes() *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name: HealthListenerName,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    HealthListenerName,
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: HealthReadyPath}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: adminClusterName},
					PrefixRewrite:    "/ready",
				}},
			}},
		}},
	}
}
