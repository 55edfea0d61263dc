package bootstrap

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Cluster names in the bootstrap (besides TracingClusterName).
const (
	OutboundPassthroughCluster = "outbound-passthrough"
	InboundPassthroughCluster  = "inbound-passthrough"
	adminClusterName           = "envoy-admin"
	httpProtocolOptionsName    = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// passthroughCluster sends each connection or request to its original destination (as
// restored by the original_dst listener filter). Upstream HTTP uses the downstream's
// protocol, so h2c and gRPC stay HTTP/2 end to end.
func (bl *builder) passthroughCluster(name string) (*clusterv3.Cluster, error) {
	options, err := bl.pack(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{
			UseDownstreamProtocolConfig: &httpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
				HttpProtocolOptions:  &corev3.Http1ProtocolOptions{},
				Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	return &clusterv3.Cluster{
		Name:                          name,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		LbPolicy:                      clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:                durationpb.New(5 * time.Second),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptionsName: options},
	}, nil
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

// tracingCluster is envoy-tracing-cluster, through which the Zipkin tracer posts spans; it
// matches the config_dump excerpt of the user guide. LOGICAL_DNS re-resolves the collector's
// name and keeps one connection target; V4_PREFERRED works on IPv4, dual-stack and IPv6-only
// clusters alike (V4_ONLY would fail on IPv6-only ones).
func tracingCluster(t Tracing) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 TracingClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS},
		ConnectTimeout:       durationpb.New(time.Second),
		AltStatName:          TracingClusterName,
		DnsLookupFamily:      clusterv3.Cluster_V4_PREFERRED,
		LoadAssignment:       loadAssignment(TracingClusterName, t.Address, t.Port),
	}
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
