package bootstrap

import (
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// Build returns the validated Envoy bootstrap for s: admin on loopback, the outbound and
// inbound capture listeners (on 0.0.0.0 and [::]) with their passthrough clusters and the
// blackhole their loop guards end in, the health listener, and, with tracing enabled, the
// Zipkin tracer on the traffic HCMs and envoy-tracing-cluster. Settings that cannot make a
// bootstrap are reported with the field's name. Build is pure. bootstrap/rules_test.go lists
// the Envoy behaviours the result relies on.
func Build(s Settings) (*bootstrapv3.Bootstrap, error) {
	if err := checkSettings(s); err != nil {
		return nil, fmt.Errorf("invalid bootstrap settings: %w", err)
	}
	var bl builder
	listeners, err := bl.listeners(s.Tracing, s.ServiceName, s.Workload, serverFirstPorts(s))
	if err != nil {
		return nil, err
	}
	clusters, err := bl.clusters(s.Tracing)
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node:            envoyNode(s.ServiceName),
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Listeners: listeners, Clusters: clusters},
		Admin:           bl.admin(),
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("when validating the bootstrap for %q: %w", s.ServiceName, err)
	}
	return b, nil
}

// envoyNode identifies the Envoy. The Zipkin tracer names spans' service after node.cluster,
// which is what Jaeger's Service drop-down lists. node.id defaults to the same name; the
// sidecar may override it with --service-node.
func envoyNode(service string) *corev3.Node {
	return &corev3.Node{Id: service, Cluster: service}
}

// admin binds Envoy's admin interface to loopback only.
func (bl *builder) admin() *bootstrapv3.Admin {
	return &bootstrapv3.Admin{Address: socketAddress(AdminAddress, AdminPort)}
}

// listeners are the outbound and inbound capture listeners, whose HTTP inspector skips the
// serverFirst ports, the health listener and the Prometheus listener.
func (bl *builder) listeners(t Tracing, serviceName string, workload Workload, serverFirst []uint32) ([]*listenerv3.Listener, error) {
	// Each side has its own tracing block: their span names differ.
	inboundName, outboundName := t.SpanNames()
	outTracing, err := bl.hcmTracing(t, serviceName, workload, outboundName)
	if err != nil {
		return nil, err
	}
	inTracing, err := bl.hcmTracing(t, serviceName, workload, inboundName)
	if err != nil {
		return nil, err
	}
	outbound, err := bl.captureListener(OutboundListenerName, OutboundPort, corev3.TrafficDirection_OUTBOUND, OutboundPassthroughCluster, outTracing, serverFirst, t.AccessLog)
	if err != nil {
		return nil, err
	}
	inbound, err := bl.captureListener(InboundListenerName, InboundPort, corev3.TrafficDirection_INBOUND, InboundPassthroughCluster, inTracing, serverFirst, t.AccessLog)
	if err != nil {
		return nil, err
	}
	health, err := bl.healthListener()
	if err != nil {
		return nil, err
	}
	prometheus, err := bl.prometheusListener()
	if err != nil {
		return nil, err
	}
	return []*listenerv3.Listener{outbound, inbound, health, prometheus}, nil
}

// clusters are the passthrough clusters, the blackhole, the admin cluster and, with tracing
// on, the tracing cluster.
func (bl *builder) clusters(t Tracing) ([]*clusterv3.Cluster, error) {
	// Both close idle upstream connections after UpstreamIdleTimeout. Istio keeps Envoy's 1 h
	// on its PassthroughCluster; outbound servers' keep-alives are unknown to us, and any
	// shorter than the pool's idle time loses requests (503 UC), so ours is short.
	outbound, err := bl.passthroughCluster(OutboundPassthroughCluster)
	if err != nil {
		return nil, err
	}
	inbound, err := bl.passthroughCluster(InboundPassthroughCluster)
	if err != nil {
		return nil, err
	}
	cs := []*clusterv3.Cluster{outbound, inbound, blackholeCluster(), adminCluster()}
	if t.Enable {
		tc, err := bl.tracingCluster(t)
		if err != nil {
			return nil, err
		}
		cs = append(cs, tc)
	}
	return cs, nil
}
