package bootstrap

import (
	"fmt"
	"sync"
	"sync/atomic"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// fixedParts are the parts of every bootstrap that no setting changes: the listener filters,
// the capture listeners' routes and TCP chains, the router filter, the health listener, the
// passthrough and admin clusters and the admin block. Generate builds, validates and renders them once per process and
// shares them read-only, so each call pays only for what its settings change (node, HCMs,
// tracer, tracing cluster). TestGenerateMatchesMarshal holds Generate's output byte-equal to
// Marshal(Build(s)), which builds everything afresh.
type fixedParts struct {
	listenerFilters []*listenerv3.ListenerFilter
	outboundTCP     *listenerv3.FilterChain
	inboundTCP      *listenerv3.FilterChain
	outboundRoutes  *routev3.RouteConfiguration
	inboundRoutes   *routev3.RouteConfiguration
	router          *hcmv3.HttpFilter
	health          *listenerv3.Listener
	clusters        []*clusterv3.Cluster
	admin           *bootstrapv3.Admin
	// rendered holds each part's YAML for the place it takes in the bootstrap.
	rendered []renderedPart
	// hits counts the parts spliced in, so a test can tell that every part still fits the
	// place it was rendered for.
	hits atomic.Int64
}

// renderedPart is a message's YAML as the value of a "key:" at indent, or after "- " (dash).
type renderedPart struct {
	msg    proto.Message
	indent int
	dash   bool
	yaml   []byte
}

// sharedFixedParts builds the fixed parts on first use.
var sharedFixedParts = sync.OnceValues(newFixedParts)

// newFixedParts builds and renders the fixed parts with an ordinary builder.
func newFixedParts() (*fixedParts, error) {
	var bl builder
	f := &fixedParts{admin: bl.admin()}
	var err error
	if f.listenerFilters, err = bl.listenerFilters(); err != nil {
		return nil, err
	}
	if f.outboundTCP, err = bl.tcpChain(OutboundListenerName, OutboundPassthroughCluster); err != nil {
		return nil, err
	}
	if f.inboundTCP, err = bl.tcpChain(InboundListenerName, InboundPassthroughCluster); err != nil {
		return nil, err
	}
	f.outboundRoutes = bl.passthroughRoutes(OutboundListenerName, OutboundPassthroughCluster)
	f.inboundRoutes = bl.passthroughRoutes(InboundListenerName, InboundPassthroughCluster)
	if f.router, err = bl.routerFilter(); err != nil {
		return nil, err
	}
	if f.health, err = bl.healthListener(); err != nil {
		return nil, err
	}
	if f.clusters, err = bl.clusters(Tracing{}); err != nil {
		return nil, err
	}
	// Where each part sits in the YAML: static_resources' lists hold items at column 2, a
	// listener's fields sit at column 4, the fields of a capture listener's HCM at column 10.
	f.render(bl.packed, f.admin, 0, false)
	f.render(bl.packed, f.outboundTCP, 4, false)
	f.render(bl.packed, f.inboundTCP, 4, false)
	f.render(bl.packed, f.outboundRoutes, 10, false)
	f.render(bl.packed, f.inboundRoutes, 10, false)
	f.render(bl.packed, f.router, 10, true)
	f.render(bl.packed, f.health, 2, true)
	for _, lf := range f.listenerFilters {
		f.render(bl.packed, lf, 4, true)
	}
	for _, c := range f.clusters {
		f.render(bl.packed, c, 2, true)
	}
	for _, r := range f.rendered {
		if r.yaml == nil {
			return nil, fmt.Errorf("when rendering the fixed part %v", r.msg.ProtoReflect().Descriptor().FullName())
		}
	}
	return f, nil
}

// render records m's YAML in the given place (nil on failure, reported by the caller).
func (f *fixedParts) render(packed packedAnys, m proto.Message, indent int, dash bool) {
	e := yamlEncoder{packed: packed}
	var y []byte
	if err := e.message(m.ProtoReflect(), indent, dash); err == nil {
		y = e.out
	}
	f.rendered = append(f.rendered, renderedPart{msg: m, indent: indent, dash: dash, yaml: y})
}

// lookup returns the YAML of m rendered in this place, or nil.
func (f *fixedParts) lookup(m proto.Message, indent int, dash bool) []byte {
	if f == nil {
		return nil
	}
	for _, r := range f.rendered {
		if r.msg == m && r.indent == indent && r.dash == dash {
			f.hits.Add(1)
			return r.yaml
		}
	}
	return nil
}

// routes returns the fixed route configuration of a capture listener, or nil.
func (f *fixedParts) routes(listener string) *routev3.RouteConfiguration {
	switch {
	case f == nil:
		return nil
	case listener == OutboundListenerName:
		return f.outboundRoutes
	case listener == InboundListenerName:
		return f.inboundRoutes
	}
	return nil
}

// tcpChain returns the fixed TCP chain of a capture listener, or nil.
func (f *fixedParts) tcpChain(listener string) *listenerv3.FilterChain {
	switch {
	case f == nil:
		return nil
	case listener == OutboundListenerName:
		return f.outboundTCP
	case listener == InboundListenerName:
		return f.inboundTCP
	}
	return nil
}
