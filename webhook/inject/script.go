package inject

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// initScript is osm-init's shell script for Traffic t. It installs the redirect in the pod's
// network namespace, one iptables-restore transaction per address family:
//   - inbound: every TCP connection to the pod goes to Envoy's inbound listener (15003), except
//     to the health port (15021: the kubelet reaches Envoy's readiness directly), the admin port
//     (15000, loopback only anyway) and the inbound exclusions (t.InboundPortExclusions, which
//     include the ports of tcpSocket probes);
//   - outbound: every TCP connection the pod opens goes to Envoy's outbound listener (15001),
//     except Envoy's own (uid 1500, or it would loop), loopback traffic, the excluded ports and
//     ranges, and, when inclusion ranges are given, everything outside them.
//
// IPv4 and IPv6 get the same rules (the loopback range and the CIDRs of each family
// differing), as Istio's and OSM's do on dual-stack clusters. The IPv6 rules are installed
// whenever the kernel has IPv6, that is when /proc/net/if_inet6 lists an address (tested by
// content: procfs files report a size of 0, so `[ -s ... ]` is always false there and once
// left IPv6 unredirected on every pod); if that fails (no ip6tables in the image, no IPv6 nat in the
// kernel) the script stops with an error when the pod has a global IPv6 address, since its
// IPv6 traffic would silently bypass Envoy, and only warns when it has none (an IPv4-only pod
// with just a link-local address loses nothing).
//
// It prefers the nf_tables backend, which needs only CAP_NET_ADMIN; images without it fall
// back to the legacy backend (CAP_NET_RAW, which osm-init has). UDP (DNS) is not redirected.
// Every value in the script is a validated number or CIDR: nothing a user wrote reaches the
// shell unparsed.
func initScript(t Traffic) string {
	var b strings.Builder
	b.WriteString(`set -eu
v4=iptables-restore
v6=ip6tables-restore
if command -v iptables-nft-restore >/dev/null 2>&1; then v4=iptables-nft-restore; v6=ip6tables-nft-restore; fi
"$v4" --noflush <<'RULES'
`)
	writeRules(&b, t, false)
	b.WriteString(`RULES
echo "osm-init: IPv4 traffic redirected to Envoy (inbound ` + strconv.Itoa(bootstrap.InboundPort) + `, outbound ` + strconv.Itoa(bootstrap.OutboundPort) + `) with $v4"
if awk 'END { exit NR == 0 }' /proc/net/if_inet6 2>/dev/null; then
  if "$v6" --noflush <<'RULES'
`)
	writeRules(&b, t, true)
	b.WriteString(`RULES
  then
    echo "osm-init: IPv6 traffic redirected to Envoy with $v6"
  elif awk '$4 == "00" && $6 != "lo" { found = 1 } END { exit !found }' /proc/net/if_inet6; then
    echo "osm-init: the pod has a global IPv6 address but $v6 failed: its IPv6 traffic would bypass Envoy" >&2
    exit 1
  else
    echo "osm-init: warning: $v6 failed; the pod has no global IPv6 address, so only IPv4 is redirected" >&2
  fi
fi
`)
	return b.String()
}

// writeRules writes the nat table of one address family.
func writeRules(b *strings.Builder, t Traffic, v6 bool) {
	loopback := "127.0.0.1/32"
	if v6 {
		loopback = "::1/128"
	}
	line := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	line("*nat")
	line(":PROXY_INBOUND - [0:0]")
	line(":PROXY_IN_REDIRECT - [0:0]")
	line(":PROXY_OUTPUT - [0:0]")
	line(":PROXY_REDIRECT - [0:0]")
	line("-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports %d", bootstrap.InboundPort)
	line("-A PROXY_INBOUND -p tcp --dport %d -j RETURN", bootstrap.HealthPort)
	line("-A PROXY_INBOUND -p tcp --dport %d -j RETURN", bootstrap.AdminPort)
	for _, p := range t.InboundPortExclusions {
		line("-A PROXY_INBOUND -p tcp --dport %d -j RETURN", p)
	}
	line("-A PROXY_INBOUND -p tcp -j PROXY_IN_REDIRECT")
	line("-A PREROUTING -p tcp -j PROXY_INBOUND")
	line("-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports %d", bootstrap.OutboundPort)
	line("-A PROXY_OUTPUT -m owner --uid-owner %d -j RETURN", bootstrap.EnvoyUID)
	line("-A PROXY_OUTPUT -o lo -j RETURN")
	line("-A PROXY_OUTPUT -d %s -j RETURN", loopback)
	for _, p := range t.OutboundPortExclusions {
		line("-A PROXY_OUTPUT -p tcp --dport %d -j RETURN", p)
	}
	for _, c := range family(t.OutboundIPExclusions, v6) {
		line("-A PROXY_OUTPUT -d %s -j RETURN", c)
	}
	if len(t.OutboundIPInclusions) == 0 {
		line("-A PROXY_OUTPUT -j PROXY_REDIRECT")
	} else {
		// Only the included ranges are redirected; the rest returns at the chain's end. A
		// family without included ranges is not redirected at all, as the list says.
		for _, c := range family(t.OutboundIPInclusions, v6) {
			line("-A PROXY_OUTPUT -d %s -j PROXY_REDIRECT", c)
		}
	}
	line("-A OUTPUT -p tcp -j PROXY_OUTPUT")
	line("COMMIT")
}

// family returns the prefixes of one address family.
func family(ps []netip.Prefix, v6 bool) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.Addr().Is6() == v6 {
			out = append(out, p)
		}
	}
	return out
}
