package bootstrap

import (
	"math"
	"net"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	caresv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
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
//
// The collector's name is resolved sparingly, as Istio resolves its DNS clusters (config
// checked against Envoy's docs, checkCollectorDNS; no test here runs Envoy's resolver):
//   - respect_dns_ttl: the record's TTL sets the next resolution, so a name that does not
//     change is asked for only as often as its server says it may change; dns_refresh_rate
//     (TracingDNSRefresh) applies when the answer carries no TTL.
//   - dns_jitter spreads the resolutions of the pods started together (a rollout) over a
//     second, so they do not reach the cluster's DNS in step.
//   - dns_failure_refresh_rate retries a failed resolution after 1 s, backing off to 30 s:
//     a collector installed after the workloads is found within seconds, not a refresh later.
//   - A Service's fully qualified name (NAME.NAMESPACE.svc.DOMAIN, as the default
//     jaeger.osm-system.svc.cluster.local) is resolved as it is written, without the pod's
//     search list. With Kubernetes' ndots:5, a name of fewer than five dots is first tried
//     under every search domain (NAME.NAMESPACE.svc.DOMAIN.<pod-namespace>.svc.cluster.local,
//     ...), each try an A and an AAAA query that fail, before the name itself. c-ares, Envoy's
//     resolver, is told no_default_search_domain for that cluster only (see
//     tracingResolver). A shorter name (jaeger.osm-system) keeps the search list it needs.
//     Istio's and Linkerd's proxies avoid the search list the same way, by asking for fully
//     qualified names.
//
// These are Cluster fields that Envoy 1.37 marks deprecated in favour of the
// envoy.clusters.dns extension (cluster_type with DnsCluster). We keep them: the cluster's
// type stays LOGICAL_DNS, as the user guide's config_dump excerpt shows it and its
// troubleshooting step looks for, and a deprecated v3 field is supported for the life of
// the v3 API (Envoy's API_VERSIONING.md); none of them is disallowed by default.
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
	if net.ParseIP(t.Address) == nil {
		sparingDNS(c)
		if isServiceFQDN(t.Address) {
			resolver, err := bl.tracingResolver()
			if err != nil {
				return nil, err
			}
			c.TypedDnsResolverConfig = resolver
		}
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

// sparingDNS sets the resolution options of a LOGICAL_DNS cluster (see tracingCluster for
// each one, and why these deprecated fields rather than the envoy.clusters.dns extension).
//
//nolint:staticcheck // SA1019: deprecated in favour of cluster_type, which would hide type LOGICAL_DNS from the guide's config_dump; supported through v3.
func sparingDNS(c *clusterv3.Cluster) {
	c.DnsRefreshRate = durationpb.New(TracingDNSRefresh)
	c.RespectDnsTtl = true
	c.DnsJitter = durationpb.New(time.Second)
	c.DnsFailureRefreshRate = &clusterv3.Cluster_RefreshRate{
		BaseInterval: durationpb.New(time.Second),
		MaxInterval:  durationpb.New(30 * time.Second),
	}
}

// TracingDNSRefresh is how often the collector's name is resolved when its answer has no TTL
// (Istio's default dnsRefreshRate; Envoy's own is 5 s).
const TracingDNSRefresh = 60 * time.Second

// caresResolverName is Envoy's c-ares DNS resolver, its default on Linux.
const caresResolverName = "envoy.network.dns_resolver.cares"

// tracingResolver is c-ares with the system's resolv.conf servers but without its search
// list, for a name that is already fully qualified.
func (bl *builder) tracingResolver() (*corev3.TypedExtensionConfig, error) {
	typed, err := bl.pack(&caresv3.CaresDnsResolverConfig{
		DnsResolverOptions: &corev3.DnsResolverOptions{NoDefaultSearchDomain: true},
	})
	if err != nil {
		return nil, err
	}
	return &corev3.TypedExtensionConfig{Name: caresResolverName, TypedConfig: typed}, nil
}

// isServiceFQDN says whether name is a Kubernetes Service's fully qualified name,
// NAME.NAMESPACE.svc.DOMAIN (DOMAIN being the cluster's, cluster.local by default): its
// third label is "svc" and at least one label follows. Such a name is resolved without the
// pod's search list.
func isServiceFQDN(name string) bool {
	labels := strings.Split(name, ".")
	return len(labels) >= 4 && labels[2] == "svc" && labels[0] != "" && labels[1] != "" && labels[3] != ""
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
