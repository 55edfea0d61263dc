package bootstrap

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Envoy's well-known filter names.
const (
	hcmFilterName    = "envoy.filters.network.http_connection_manager"
	routerFilterName = "envoy.filters.http.router"
)

// hcmFilter is the network filter of an HTTP connection manager that serves routes with
// tracing (nil: no tracer). Every HCM generates x-request-id when it is missing, so the first
// hop starts the trace (x-request-id and the x-b3-* headers).
func (bl *builder) hcmFilter(statPrefix string, routes *routev3.RouteConfiguration, tracing *hcmv3.HttpConnectionManager_Tracing) (*listenerv3.Filter, error) {
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
		// Pass WebSocket upgrades through; without this the HCM refuses them.
		UpgradeConfigs: []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}},
	}
	typed, err := bl.pack(hcm)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typed}}, nil
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

// passthroughRoutes sends every HTTP request, whatever its host or path, to cluster (an
// ORIGINAL_DST cluster, so the request goes where the application sent it). The route
// timeout is off: the sidecar must not cut long requests or streams the app allows.
func (bl *builder) passthroughRoutes(name, cluster string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name: name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    name,
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
					Timeout:          durationpb.New(0),
				}},
			}},
		}},
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
