package redirect

import (
	"errors"
	"fmt"
	"math"
	"net/netip"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Spec is one pod's redirect. The lists are used in their order; the injector passes them
// sorted and without repeats, so equal settings give equal command lines.
type Spec struct {
	// InboundPort and OutboundPort are Envoy's capture listeners (bootstrap.InboundPort,
	// 15003, and bootstrap.OutboundPort, 15001).
	InboundPort, OutboundPort uint16
	// ProxyUID is Envoy's uid (bootstrap.EnvoyUID, 1500): connections its processes open are
	// never redirected, or Envoy's own upstream connections would come back to it.
	ProxyUID uint32
	// InboundPortExclusions are the pod's ports reached directly, besides the health and
	// admin ports, which are never redirected.
	InboundPortExclusions []uint16
	// OutboundPortExclusions are destination ports the pod reaches directly.
	OutboundPortExclusions []uint16
	// OutboundIPExclusions are destination ranges the pod reaches directly.
	OutboundIPExclusions []netip.Prefix
	// OutboundIPInclusions, when not empty, are the only destination ranges redirected.
	OutboundIPInclusions []netip.Prefix
}

// Default is the redirect to the injected Envoy with nothing excluded: its listeners and
// uid from package bootstrap.
func Default() Spec {
	return Spec{InboundPort: bootstrap.InboundPort, OutboundPort: bootstrap.OutboundPort, ProxyUID: bootstrap.EnvoyUID}
}

// FixedInboundExclusions are the ports never redirected inbound, whatever the Spec says:
// Envoy's health port, which the kubelet's readiness probe reaches directly, its admin
// port (it listens on 127.0.0.1 only; a connection from outside has nothing to reach through
// Envoy either) and its Prometheus port, which Prometheus scrapes directly (through the
// inbound listener a scrape would be proxied back to Envoy, and traced).
func FixedInboundExclusions() []uint16 {
	return []uint16{bootstrap.HealthPort, bootstrap.AdminPort, bootstrap.PrometheusPort}
}

// noUID is (uid_t)-1, which the kernel takes for "no uid" (setresuid leaves such an id
// unchanged): no process runs as it, so a redirect that spares it would spare nothing.
const noUID = math.MaxUint32

// Validate says what in s no redirect could mean: a port 0, the same port for both
// listeners, the uid (uid_t)-1, a range that is not written as its network address, an
// IPv4-mapped IPv6 range or a range with a zone. Parse only returns valid Specs.
func (s Spec) Validate() error {
	var errs []error
	for _, f := range flags {
		value, ok := f.get(s)
		if !ok {
			continue
		}
		// Each flag's own parser is the one check of its values: a Spec is valid exactly
		// when the command line it renders parses.
		var parsed Spec
		if err := f.set(&parsed, value); err != nil {
			errs = append(errs, fmt.Errorf("%s=%s: %w", f.name, value, err))
		}
	}
	if s.InboundPort == s.OutboundPort && s.InboundPort != 0 {
		errs = append(errs, fmt.Errorf("the inbound and outbound ports are both %d: Envoy's two capture listeners need two ports", s.InboundPort))
	}
	return errors.Join(errs...)
}
