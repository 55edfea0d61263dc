package ruleset

import (
	"net/netip"

	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// TableName is the name of osm-init's table in each family. osm-init owns it: every run
// replaces it whole.
const TableName = "osm_proxy"

// Family is an address family: which packets a table sees.
type Family uint8

// The two families osm-init redirects.
const (
	IPv4 Family = iota + 1
	IPv6
)

// String is the family's name in log lines: IPv4 or IPv6.
func (f Family) String() string {
	if f == IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// Keyword is nft's name of the family's tables: ip or ip6.
func (f Family) Keyword() string {
	if f == IPv6 {
		return "ip6"
	}
	return "ip"
}

// Has says whether p is an address range of the family.
func (f Family) Has(p netip.Prefix) bool { return p.Addr().Is4() == (f == IPv4) }

// loopback is the loopback address the outbound chain spares, as the iptables rules did
// (-d 127.0.0.1/32, -d ::1/128); the rest of 127.0.0.0/8 leaves through lo and is spared
// by the interface rule.
func (f Family) loopback() netip.Prefix {
	if f == IPv6 {
		return netip.PrefixFrom(netip.IPv6Loopback(), 128)
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 32)
}

// Hook is where a base chain sees packets.
type Hook uint8

// The hooks of osm-init's chains: packets arriving at the pod, and packets the pod sends.
const (
	Prerouting Hook = iota + 1
	Output
)

// NATPriority is both chains' priority: NF_IP_PRI_NAT_DST, iptables' nat table's at
// prerouting and at output (nft calls it dstnat).
const NATPriority int32 = -100

// Table is one family's table.
type Table struct {
	Family Family
	Chains []Chain
}

// Chain is a base chain of type nat with policy accept: a packet no rule redirects goes on
// as it is.
type Chain struct {
	Name     string
	Hook     Hook
	Priority int32
	Rules    []Rule
}

// Rule is a list of matches, all of which must hold, and what happens then.
type Rule struct {
	Matches []Match
	Verdict Verdict
}

// Match is one condition on a packet: TCP, NotTCP, DPort, SKUID, OIFName or DAddr.
type Match interface{ isMatch() }

// TCP matches TCP packets, NotTCP every other one.
type (
	TCP    struct{}
	NotTCP struct{}
)

// DPort matches TCP packets to a destination port.
type DPort uint16

// SKUID matches packets of sockets a uid owns (locally generated packets only).
type SKUID uint32

// OIFName matches packets leaving through the interface of that name.
type OIFName string

// DAddr matches packets to an address range of the table's family.
type DAddr netip.Prefix

func (TCP) isMatch()     {}
func (NotTCP) isMatch()  {}
func (DPort) isMatch()   {}
func (SKUID) isMatch()   {}
func (OIFName) isMatch() {}
func (DAddr) isMatch()   {}

// Verdict is what a rule does to a packet that matches: Return or Redirect.
type Verdict interface{ isVerdict() }

// Return ends the chain for the packet: it is not redirected.
type Return struct{}

// Redirect sends the connection to a port of the pod's own address (127.0.0.1 or ::1 for
// locally generated packets, the receiving interface's address for arriving ones), as
// iptables' REDIRECT --to-ports did; Envoy reads the original destination back with
// SO_ORIGINAL_DST.
type Redirect struct{ Port uint16 }

func (Return) isVerdict()   {}
func (Redirect) isVerdict() {}

// Build is the table of family f for s: an inbound chain at prerouting and an outbound chain
// at output (see the package documentation and package redirect for what each spares).
func Build(s redirect.Spec, f Family) Table {
	ret := func(m ...Match) Rule { return Rule{Matches: m, Verdict: Return{}} }
	in := Chain{Name: "inbound", Hook: Prerouting, Priority: NATPriority}
	in.Rules = append(in.Rules, ret(NotTCP{}))
	for _, p := range append(redirect.FixedInboundExclusions(), s.InboundPortExclusions...) {
		in.Rules = append(in.Rules, ret(DPort(p)))
	}
	in.Rules = append(in.Rules, Rule{Matches: []Match{TCP{}}, Verdict: Redirect{Port: s.InboundPort}})

	out := Chain{Name: "outbound", Hook: Output, Priority: NATPriority}
	out.Rules = append(out.Rules, ret(NotTCP{}), ret(SKUID(s.ProxyUID)), ret(OIFName("lo")), ret(DAddr(f.loopback())))
	for _, p := range s.OutboundPortExclusions {
		out.Rules = append(out.Rules, ret(DPort(p)))
	}
	for _, p := range s.OutboundIPExclusions {
		if f.Has(p) {
			out.Rules = append(out.Rules, ret(DAddr(p)))
		}
	}
	toEnvoy := Redirect{Port: s.OutboundPort}
	if len(s.OutboundIPInclusions) == 0 {
		out.Rules = append(out.Rules, Rule{Matches: []Match{TCP{}}, Verdict: toEnvoy})
	}
	// With inclusions, only the included ranges are redirected and the rest goes on at the
	// chain's end; a family without an included range is not redirected outbound at all,
	// as the list says.
	for _, p := range s.OutboundIPInclusions {
		if f.Has(p) {
			out.Rules = append(out.Rules, Rule{Matches: []Match{DAddr(p), TCP{}}, Verdict: toEnvoy})
		}
	}
	return Table{Family: f, Chains: []Chain{in, out}}
}
