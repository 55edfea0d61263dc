package ruleset

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// specs are the redirects of the golden files, by file name.
var specs = map[string]redirect.Spec{
	// The injector's default: nothing excluded.
	"default": redirect.Default(),
	// Every exclusion, in both families.
	"exclusions": func() redirect.Spec {
		s := redirect.Default()
		s.InboundPortExclusions = []uint16{8081, 9090}
		s.OutboundPortExclusions = []uint16{3306, 6379}
		s.OutboundIPExclusions = prefixes("10.96.0.0/12", "169.254.169.254/32", "fd00:10:96::/108")
		return s
	}(),
	// Inclusions of IPv4 only: IPv6 is not redirected outbound; exclusions still apply
	// before the inclusions.
	"inclusions-ipv4-only": func() redirect.Spec {
		s := redirect.Default()
		s.OutboundIPExclusions = prefixes("10.0.0.1/32")
		s.OutboundIPInclusions = prefixes("10.0.0.0/8", "192.168.0.0/16")
		return s
	}(),
	// Other listeners and uid, and an inclusion of all IPv6.
	"other-ports": {InboundPort: 16003, OutboundPort: 16001, ProxyUID: 1337,
		OutboundIPInclusions: prefixes("172.16.0.0/12", "::/0")},
}

// TestScriptGolden holds the nft script of each spec to testdata/NAME.nft (go test -update
// rewrites them). The files are what `osm-init --dry-run` prints; package nft's kernel test
// checks that the netlink messages install exactly what nft installs from them.
func TestScriptGolden(t *testing.T) {
	for name, s := range specs {
		t.Run(name, func(t *testing.T) {
			got := Script([]Table{Build(s, IPv4), Build(s, IPv6)})
			path := filepath.Join("testdata", name+".nft")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("Script differs from %s (-want +got; go test -update rewrites it):\n%s", path, diff)
			}
		})
	}
}

// TestBuild checks the old iptables script's semantics rule by rule on the exclusions spec:
// order matters, since the first matching rule decides.
func TestBuild(t *testing.T) {
	s := specs["exclusions"]
	for name, c := range map[string]struct {
		family Family
		chain  int
		want   []string
	}{
		"inbound IPv4: non-TCP, health, admin, Prometheus and excluded ports return, the rest goes to 15003": {IPv4, 0, []string{
			"meta l4proto != tcp return", "tcp dport 15021 return", "tcp dport 15000 return", "tcp dport 15090 return",
			"tcp dport 8081 return", "tcp dport 9090 return", "meta l4proto tcp redirect to :15003"}},
		"inbound IPv6 is the same": {IPv6, 0, []string{
			"meta l4proto != tcp return", "tcp dport 15021 return", "tcp dport 15000 return", "tcp dport 15090 return",
			"tcp dport 8081 return", "tcp dport 9090 return", "meta l4proto tcp redirect to :15003"}},
		"outbound IPv4: the proxy, lo, loopback, ports, then the family's ranges": {IPv4, 1, []string{
			"meta l4proto != tcp return", "meta skuid 1500 return", `oifname "lo" return`, "ip daddr 127.0.0.1 return",
			"tcp dport 3306 return", "tcp dport 6379 return", "ip daddr 10.96.0.0/12 return", "ip daddr 169.254.169.254 return",
			"meta l4proto tcp redirect to :15001"}},
		"outbound IPv6: its own loopback and ranges": {IPv6, 1, []string{
			"meta l4proto != tcp return", "meta skuid 1500 return", `oifname "lo" return`, "ip6 daddr ::1 return",
			"tcp dport 3306 return", "tcp dport 6379 return", "ip6 daddr fd00:10:96::/108 return",
			"meta l4proto tcp redirect to :15001"}},
	} {
		t.Run(name, func(t *testing.T) {
			tbl := Build(s, c.family)
			var got []string
			for _, r := range tbl.Chains[c.chain].Rules {
				got = append(got, r.String())
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
	in, out := Build(s, IPv4).Chains[0], Build(s, IPv4).Chains[1]
	if in.Hook != Prerouting || out.Hook != Output || in.Priority != -100 || out.Priority != -100 {
		t.Errorf("hooks %v %v, priorities %d %d; want prerouting and output at -100 (iptables' nat)", in.Hook, out.Hook, in.Priority, out.Priority)
	}
}

func TestDescribe(t *testing.T) {
	for name, c := range map[string]struct {
		spec   redirect.Spec
		family Family
		want   string
	}{
		"default IPv4": {specs["default"], IPv4, "IPv4 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090; " +
			"outbound TCP to 15001 except from uid 1500, through lo, to 127.0.0.1"},
		"exclusions IPv6": {specs["exclusions"], IPv6, "IPv6 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090,8081,9090; " +
			"outbound TCP to 15001 except from uid 1500, through lo, to ::1, to fd00:10:96::/108, to ports 3306,6379"},
		"inclusions IPv4": {specs["inclusions-ipv4-only"], IPv4, "IPv4 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090; " +
			"outbound TCP to 15001 only to 10.0.0.0/8,192.168.0.0/16 and except from uid 1500, through lo, to 127.0.0.1, to 10.0.0.1"},
		"inclusions without IPv6": {specs["inclusions-ipv4-only"], IPv6, "IPv6 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090; " +
			"outbound TCP not redirected (the outbound inclusions have no IPv6 range)"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Describe(Build(c.spec, c.family)); got != c.want {
				t.Errorf("Describe =\n%s\nwant\n%s", got, c.want)
			}
			if strings.Contains(c.want, "\n") {
				t.Error("a description is one line")
			}
		})
	}
}
