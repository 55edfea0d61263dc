package bootstrap

import (
	"math"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Cluster names in the bootstrap (besides TracingClusterName).
const (
	OutboundPassthroughCluster = "outbound-passthrough"
	InboundPassthroughCluster  = "inbound-passthrough"
	// BlackholeCluster has no endpoints: a connection sent there is closed at once. The loop
	// guards of the capture listeners end in it.
	BlackholeCluster        = "blackhole"
	adminClusterName        = "envoy-admin"
	httpProtocolOptionsName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// UpstreamIdleTimeout is how long an idle upstream HTTP connection of either passthrough is
// kept for reuse: from the inbound one to the application, from the outbound one to the
// servers the application calls. It must be shorter than the server's keep-alive timeout:
// an HTTP server closes a keep-alive connection that stayed idle that long, and a request
// Envoy sends on it in that same instant is lost with it: the client gets a 503 with the
// response flag UC. Our routes retry only requests none of whose bytes left Envoy (see
// safeRetries), and this one's did: the server may have read it. The application's own HTTP
// client, which would retry an idempotent request on a connection it reused, never sees the
// connection. When Envoy always closes first, the race cannot happen. Node.js's http server
// keeps idle connections 5 s (keepAliveTimeout), as do Apache httpd and uvicorn; load
// balancers and nginx keep them longer (60-75 s); 4 s stays under all of them. Envoy's
// default is 1 h, and Istio keeps it (with a DestinationRule to change it per destination);
// we have no per-workload or per-destination config, so we take the short value for every
// connection: the cost is a new connection after 4 s of silence, cheap to a local port and
// one round trip to a remote one.
const UpstreamIdleTimeout = 4 * time.Second

// unlimited is the largest circuit breaker threshold, 2^32-1.
const unlimited = math.MaxUint32

// passthroughCluster sends each connection or request to its original destination (as
// restored by the original_dst listener filter). Upstream HTTP uses the downstream's
// protocol, so h2c and gRPC stay HTTP/2 end to end. Upstream HTTP connections idle for
// UpstreamIdleTimeout are closed. Upstream connections are kept alive (see
// TCPKeepaliveTime): the outbound one's peers are remote; the inbound one's is the
// application, on the same host, where a probe costs nothing.
//
// The circuit breakers are effectively off, as on Istio's PassthroughCluster. Envoy's
// defaults (1024 connections, pending requests, requests and 3 retries) apply per cluster,
// and one ORIGINAL_DST cluster carries the traffic of every destination the pod talks to: a
// busy client with many upstreams, or a server with many callers, would hit them and get 503s
// (UO) that it never got without the sidecar. The application and the kernel set the limits
// a transparent proxy must not add to.
func (bl *builder) passthroughCluster(name string) (*clusterv3.Cluster, error) {
	options := &httpv3.HttpProtocolOptions{
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: durationpb.New(UpstreamIdleTimeout)},
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{
			UseDownstreamProtocolConfig: &httpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
				HttpProtocolOptions:  &corev3.Http1ProtocolOptions{},
				Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
			},
		},
	}
	packed, err := bl.pack(options)
	if err != nil {
		return nil, err
	}
	return &clusterv3.Cluster{
		Name:                          name,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		LbPolicy:                      clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:                durationpb.New(5 * time.Second),
		CircuitBreakers:               unlimitedCircuitBreakers(),
		UpstreamConnectionOptions:     keepaliveOptions(),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptionsName: packed},
	}, nil
}

// keepaliveOptions turn TCP keepalive on for a cluster's upstream connections.
func keepaliveOptions() *clusterv3.UpstreamConnectionOptions {
	return &clusterv3.UpstreamConnectionOptions{TcpKeepalive: tcpKeepalive()}
}

// unlimitedCircuitBreakers sets the thresholds of the default priority to the maximum (the
// high priority is only used by routes that ask for it; ours do not).
func unlimitedCircuitBreakers() *clusterv3.CircuitBreakers {
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections:     wrapperspb.UInt32(unlimited),
		MaxPendingRequests: wrapperspb.UInt32(unlimited),
		MaxRequests:        wrapperspb.UInt32(unlimited),
		MaxRetries:         wrapperspb.UInt32(unlimited),
	}}}
}

// blackholeCluster is a static cluster without endpoints, like Istio's BlackHoleCluster: a
// tcp_proxy sending there finds no host and closes the downstream connection right away.
func blackholeCluster() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 BlackholeCluster,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
	}
}

// adminCluster reaches Envoy's own admin interface, for the health listener.
func adminCluster() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 adminClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(time.Second),
		LoadAssignment:       loadAssignment(adminClusterName, AdminAddress, AdminPort),
	}
}

// tracingCluster is envoy-tracing-cluster, through which the tracer sends spans; it matches
// the config_dump excerpt of the user guide. LOGICAL_DNS re-resolves the collector's name and
// keeps one connection target; V4_PREFERRED works on IPv4, dual-stack and IPv6-only clusters
// alike (V4_ONLY would fail on IPv6-only ones).
//
// With OpenTelemetry the tracer's gRPC client needs HTTP/2 to the collector: an Envoy cluster
// speaks HTTP/1.1 unless told otherwise, and gRPC over it fails. explicit_http_config with
// http2_protocol_options says so (prior knowledge, h2c: OTLP receivers take plaintext HTTP/2
// on 4317). The Zipkin cluster stays as it was: HTTP/1.1 posts.
//
// Its connections are kept alive like the passthroughs' (see TCPKeepaliveTime): a collector
// pod that vanished behind its Service would otherwise hold the tracer's pooled connection,
// and the spans posted on it, for the kernel's two hours.
func (bl *builder) tracingCluster(t Tracing) (*clusterv3.Cluster, error) {
	c := &clusterv3.Cluster{
		Name:                      TracingClusterName,
		ClusterDiscoveryType:      &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS},
		ConnectTimeout:            durationpb.New(time.Second),
		AltStatName:               TracingClusterName,
		DnsLookupFamily:           clusterv3.Cluster_V4_PREFERRED,
		LoadAssignment:            loadAssignment(TracingClusterName, t.Address, t.Port),
		UpstreamConnectionOptions: keepaliveOptions(),
	}
	if t.Protocol == ProtocolOpenTelemetry {
		packed, err := bl.pack(&httpv3.HttpProtocolOptions{
			UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
			}},
		})
		if err != nil {
			return nil, err
		}
		c.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsName: packed}
	}
	return c, nil
}

// loadAssignment is a single-endpoint load assignment.
func loadAssignment(cluster, address string, port uint32) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: cluster,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: socketAddress(address, port),
				}},
			}},
		}},
	}
}

// socketAddress is a TCP address.
func socketAddress(address string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       address,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
