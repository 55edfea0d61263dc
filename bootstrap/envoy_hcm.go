package bootstrap

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
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
// localReply, when set, rewrites the replies Envoy itself makes (see notProcessedReply);
// accessLog logs each exchange.
func (bl *builder) hcmFilter(statPrefix string, routes *routev3.RouteConfiguration, tracing *hcmv3.HttpConnectionManager_Tracing, traffic bool, localReply *hcmv3.LocalReplyConfig, accessLog []*accesslogv3.AccessLog) (*listenerv3.Filter, error) {
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
		LocalReplyConfig:  localReply,
		AccessLog:         accessLog,
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
// On the inbound side, the first route takes the kubelet's probes: they still reach the
// application, so the probe answers what the application says, but are never sampled (see
// probeRoute).
//
// Only the "/" route retries, and only requests that never reached the server (see
// safeRetries); on the outbound side, also those the server's sidecar marks as never handed
// to its application (NotProcessedHeader). The probe route does not retry: a probe must
// report the application as it finds it. Nor does the CONNECT route: what a client sends
// after its CONNECT is the start of a tunnel, which a retry would have to hold back and
// replay.
//
// Both virtual hosts remove NotProcessedHeader from every response they pass on, whatever
// the route: the outbound one so that the application never sees our marker, not even on
// the response that ends the retries; the inbound one so that the application cannot send
// it, and the marker on a response from this pod is always its sidecar's (Envoy adds it to
// its own reply after the virtual host's removals; see notProcessedReply).
func (bl *builder) passthroughRoutes(name, cluster string, inbound bool) *routev3.RouteConfiguration {
	var routes []*routev3.Route
	if inbound {
		routes = append(routes, probeRoute(cluster))
	}
	retrying := passthroughAction(cluster)
	retrying.Route.RetryPolicy = safeRetries(!inbound)
	routes = append(routes,
		&routev3.Route{
			Name:   ConnectRouteName,
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_ConnectMatcher_{ConnectMatcher: &routev3.RouteMatch_ConnectMatcher{}}},
			Action: passthroughAction(cluster),
		},
		&routev3.Route{
			Name:   PassthroughRouteName,
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: retrying,
		})
	return &routev3.RouteConfiguration{
		Name: name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:                    name,
			Domains:                 []string{"*"},
			Routes:                  routes,
			ResponseHeadersToRemove: []string{NotProcessedHeader},
		}},
	}
}

// passthroughAction forwards to cluster without a route timeout.
func passthroughAction(cluster string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
		Timeout:          durationpb.New(0),
	}}
}

// The retry conditions of the passthrough routes: those where Envoy knows the server did not
// process the request (router filter, x-envoy-retry-on):
//   - connect-failure: no connection to the server could be made (refused, or the cluster's
//     5 s connect timeout), so nothing was sent. On the outbound side the destination is
//     usually a Service's ClusterIP: each new connection goes through kube-proxy's DNAT again
//     and may land on another endpoint, so during a rollout a request that hit an endpoint
//     already gone (still in the node's rules, refusing or silent) is sent to a live one
//     instead of failing. To a pod IP (a headless Service; the application on the inbound
//     side) the retry redials the same address and helps only if the failure was momentary.
//   - refused-stream: an HTTP/2 server reset the stream with REFUSED_STREAM, which by the
//     protocol means it did not process it (RFC 9113, section 8.7).
//   - reset-before-request (Envoy 1.31): the upstream stream was reset before Envoy had sent
//     any byte of the request in any attempt, typically on a pooled connection the server
//     closed as Envoy picked it.
//
// Not reset, 5xx or gateway-error: those retry requests whose bytes were sent, which the
// server may have processed (a payment posted twice). Whether those are worth repeating is
// the application's call, as it is without the sidecar. Istio's default retries (on its
// service routes, not its passthrough) add unavailable, cancelled and 503 to
// connect-failure and refused-stream, and so can repeat a request the server saw: it cannot
// tell a 503 its sidecar made for a request the application never got from a 503 the
// application sent. The outbound side can, by NotProcessedHeader (notProcessedRetryOn).
const safeRetryOn = "connect-failure,refused-stream,reset-before-request"

// notProcessedRetryOn is the outbound "/" route's condition beyond safeRetryOn: a response
// that carries NotProcessedHeader (retriable_headers, matched by presence) is retried.
//
// The server's sidecar adds the header only to the reply it makes when it could not connect
// to its application at all (see notProcessedReply), so the application never saw the
// request. That happens as the server's pod shuts down: its application has stopped
// listening while its sidecar, which exits last, still accepts connections. The retry does
// not go back to that pod on the same connection. The server's sidecar is draining by then
// (drainType): on HTTP/1.1 its reply carries Connection: close, and our HTTP/1 connection
// pool closes a connection whose response says so instead of pooling it again; on HTTP/2
// the reply follows a GOAWAY, after which the pool opens no stream on that connection. The
// retry takes another pooled connection, or opens a new one, which to a ClusterIP goes
// through kube-proxy again and lands on an endpoint still in the Service; a pooled one to the
// same pod would be drained the same way, and none stays idle longer than
// UpstreamIdleTimeout. Were the server not draining (its application crashed, the pod is not
// terminating), the reply keeps its connection open and the retries may find the same pod
// on it: they are wasted, not harmful.
//
// The inbound "/" route does not retry on the header: behind it there is only the local
// application, which it already redials on connect-failure.
const notProcessedRetryOn = "retriable-headers"

// safeRetryCount is how many times a request is retried: three attempts in all, the second
// after a random 0-25 ms and the third after 0-75 ms (Envoy's default back-off, base 25 ms).
// A marked reply (notProcessedRetryOn) costs a round trip, not a connect timeout, and a
// retry lands on the same terminating pod only if kube-proxy picks it again before the
// Service drops it (one chance in the number of endpoints, each time), so two are enough
// there too.
const safeRetryCount = 2

// safeRetries is the retry policy of the passthrough routes (safeRetryOn, safeRetryCount),
// and with notProcessed, of the outbound one, also notProcessedRetryOn.
//
// Beyond the conditions:
//   - No per-try timeout, and the route timeout stays 0: the application's own timeouts
//     rule. A destination that never answers a SYN now costs three connect timeouts (15 s)
//     before the 503, where the application's deadline usually ends the wait sooner.
//   - No retry_host_predicate: an ORIGINAL_DST cluster has one host per destination address,
//     so previous_hosts could only reject the one there is.
//   - Envoy keeps a copy of the request body while a retry is possible, that is until the
//     response headers arrive. A body that outgrows the buffer limit (the listener's
//     per_connection_buffer_limit_bytes, 1 MiB by default) ends the retries for that request
//     (the cluster stat retry_or_shadow_abandoned) and goes on unbuffered: a large request is
//     never failed for its size. Only if it outgrows the limit while a retry is already
//     waiting out its back-off (the first attempt has failed) does Envoy answer 507 instead
//     of the 503 it would have sent without retries (router.cc, decodeData).
//   - A WebSocket handshake (an HTTP/1.1 upgrade on the "/" route) is retried like any
//     request, only before any byte of it was sent; the retry state ends with the response
//     headers (the 101), so tunnel bytes are never replayed.
//   - The passthrough clusters' retry circuit breaker is open wide (max_retries): Envoy's
//     default of 3 concurrent retries per cluster would drop retries during the very
//     rollouts they are for.
func safeRetries(notProcessed bool) *routev3.RetryPolicy {
	p := &routev3.RetryPolicy{RetryOn: safeRetryOn, NumRetries: wrapperspb.UInt32(safeRetryCount)}
	if notProcessed {
		p.RetryOn += "," + notProcessedRetryOn
		p.RetriableHeaders = []*routev3.HeaderMatcher{{
			Name:                 NotProcessedHeader,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true},
		}}
	}
	return p
}

// NotProcessedHeader marks a response that a pod's sidecar made because it could not hand
// the request to its application at all: the inbound Envoy could not connect to the
// application's port (refused, or the connect timeout), so the application never saw a byte
// of the request, and repeating it is safe whatever it is. Its value says why:
// NotProcessedConnectFailure, the only reason so far. Callers' sidecars retry such a
// response (notProcessedRetryOn) and remove the header, so no application sees it; they
// match it by presence, so a later reason needs no caller to learn its value first (callers
// and servers run different bootstraps during an upgrade).
const (
	NotProcessedHeader         = "x-osm-not-processed"
	NotProcessedConnectFailure = "connect-failure"
)

// upstreamConnectionFailure is Envoy's response flag UF: no connection to the upstream could
// be opened (refused, reset while connecting, or the connect timeout).
const upstreamConnectionFailure = "UF"

// notProcessedReply is the inbound HCM's local_reply_config: a reply Envoy makes whose
// response flags include UF gets NotProcessedHeader. The router sets UF when it could not
// connect to the application, after the inbound "/" route's own connect-failure retries (URX
// joins it then; a response_flag_filter matches any of its flags). Only UF proves the
// application never saw the request: UC, UR and UT come after request bytes may have gone
// out, and a caller must not repeat those.
//
// The mapper only adds the header. It sets no status_code, body or body_format_override, and
// the config no body_format, so the reply keeps its 503 and its text body, as without a
// local_reply_config (local_reply.cc: a mapper rewrites only what it sets; the default body
// format is %LOCAL_REPLY_BODY%, text/plain). A gRPC request's reply becomes trailers-only
// (200, grpc-status 14) after the mappers and keeps the header. The virtual host's
// response_headers_to_remove, which strips the application's own copies of the header, is
// applied to a local reply before the mappers (Utility::prepareLocalReply: modify_headers,
// then rewrite), so it does not take this one away.
//
// Only the inbound HCM has it: the outbound one's replies go to the application, and the
// health listener's to the kubelet.
func notProcessedReply() *hcmv3.LocalReplyConfig {
	return &hcmv3.LocalReplyConfig{Mappers: []*hcmv3.ResponseMapper{{
		Filter: &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
			ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{upstreamConnectionFailure}},
		}},
		HeadersToAdd: []*corev3.HeaderValueOption{{
			Header:       &corev3.HeaderValue{Key: NotProcessedHeader, Value: NotProcessedConnectFailure},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}},
	}}}
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
