package check

import (
	"fmt"
	"slices"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Facts are the tracing-related contents of a bootstrap.
type Facts struct {
	// TracingCluster is set when the bootstrap has envoy-tracing-cluster; Address and Port are
	// its first endpoint.
	TracingCluster bool
	Address        string
	Port           uint32
	// HCMs counts the HTTP connection managers of the traffic listeners (the health listener,
	// which serves the kubelet's probes, is never traced); Tracers lists their Zipkin tracers.
	HCMs    int
	Tracers []Tracer
}

// Tracer is the Zipkin tracer of one HTTP connection manager.
type Tracer struct {
	Listener string
	Cluster  string
	Endpoint string
}

// ReadFacts parses a bootstrap (strictly, as bootstrap.Parse does) and collects its facts.
func ReadFacts(yaml []byte) (Facts, error) {
	b, err := bootstrap.Parse(yaml)
	if err != nil {
		return Facts{}, err
	}
	return factsOf(b)
}

func factsOf(b *bootstrapv3.Bootstrap) (Facts, error) {
	var f Facts
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != bootstrap.TracingClusterName {
			continue
		}
		f.TracingCluster = true
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range e.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				if sa != nil && f.Address == "" {
					f.Address, f.Port = sa.GetAddress(), sa.GetPortValue()
				}
			}
		}
	}
	for _, l := range b.GetStaticResources().GetListeners() {
		if l.GetName() == bootstrap.HealthListenerName {
			continue
		}
		chains := slices.Clone(l.GetFilterChains())
		if l.GetDefaultFilterChain() != nil {
			chains = append(chains, l.GetDefaultFilterChain())
		}
		for _, fc := range chains {
			if err := f.addHCMs(l.GetName(), fc); err != nil {
				return Facts{}, err
			}
		}
	}
	return f, nil
}

func (f *Facts) addHCMs(listener string, fc *listenerv3.FilterChain) error {
	for _, filter := range fc.GetFilters() {
		tc := filter.GetTypedConfig()
		if tc == nil {
			continue
		}
		hcm := &hcmv3.HttpConnectionManager{}
		if !tc.MessageIs(hcm) {
			continue
		}
		if err := tc.UnmarshalTo(hcm); err != nil {
			return fmt.Errorf("when decoding the HTTP connection manager of listener %s: %w", listener, err)
		}
		f.HCMs++
		p := hcm.GetTracing().GetProvider()
		if p == nil {
			continue
		}
		z := &tracev3.ZipkinConfig{}
		if p.GetTypedConfig() == nil || !p.GetTypedConfig().MessageIs(z) {
			continue
		}
		if err := p.GetTypedConfig().UnmarshalTo(z); err != nil {
			return fmt.Errorf("when decoding the Zipkin tracer of listener %s: %w", listener, err)
		}
		f.Tracers = append(f.Tracers, Tracer{Listener: listener, Cluster: z.GetCollectorCluster(), Endpoint: z.GetCollectorEndpoint()})
	}
	return nil
}

// Problems compares a bootstrap's facts with the tracing settings it should carry and
// describes each difference; none means the bootstrap matches.
func Problems(f Facts, want bootstrap.Tracing) []string {
	var out []string
	if !want.Enable {
		if f.TracingCluster {
			out = append(out, fmt.Sprintf("it has %s although tracing is disabled for this pod", bootstrap.TracingClusterName))
		}
		if len(f.Tracers) > 0 {
			out = append(out, fmt.Sprintf("%d HTTP connection managers have a Zipkin tracer although tracing is disabled for this pod", len(f.Tracers)))
		}
		return out
	}
	if !f.TracingCluster {
		out = append(out, fmt.Sprintf("it has no %s (tracing is enabled)", bootstrap.TracingClusterName))
	} else if f.Address != want.Address || f.Port != want.Port {
		out = append(out, fmt.Sprintf("%s points at %s:%d, not %s:%d", bootstrap.TracingClusterName,
			f.Address, f.Port, want.Address, want.Port))
	}
	if f.HCMs == 0 {
		out = append(out, "it has no HTTP connection manager to trace")
	}
	if missing := f.HCMs - len(f.Tracers); missing > 0 {
		out = append(out, fmt.Sprintf("%d of %d HTTP connection managers have no Zipkin tracer", missing, f.HCMs))
	}
	for _, t := range f.Tracers {
		if t.Cluster != bootstrap.TracingClusterName {
			out = append(out, fmt.Sprintf("the tracer of listener %s sends to cluster %q, not %s", t.Listener, t.Cluster, bootstrap.TracingClusterName))
		}
		if t.Endpoint != want.Endpoint {
			out = append(out, fmt.Sprintf("the tracer of listener %s posts to %s, not %s", t.Listener, t.Endpoint, want.Endpoint))
		}
	}
	return out
}
