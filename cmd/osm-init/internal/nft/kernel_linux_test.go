//go:build linux

package nft

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// These tests program the running kernel, each in network namespaces of its own: they need
// root, ip and nft (which they use to read back what was installed, and as the reference).

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// kernelSpecs cover every kind of match: ports, ranges of whole bytes and not, a single
// address, /0, inclusions in one family only.
var kernelSpecs = map[string]redirect.Spec{
	"default": redirect.Default(),
	"exclusions": {InboundPort: 15003, OutboundPort: 15001, ProxyUID: 1500,
		InboundPortExclusions: []uint16{8081}, OutboundPortExclusions: []uint16{3306, 6379},
		OutboundIPExclusions: prefixes("10.96.0.0/12", "169.254.169.254/32", "192.168.0.0/16", "fd00:10:96::/108", "2001:db8::1/128")},
	"inclusions": {InboundPort: 16003, OutboundPort: 16001, ProxyUID: 1337,
		OutboundIPExclusions: prefixes("10.0.0.1/32"), OutboundIPInclusions: prefixes("10.0.0.0/8", "0.0.0.0/0", "10.1.2.0/23")},
}

// TestApplyIsWhatNftInstalls installs each spec's tables over netlink in one namespace and
// has nft install ruleset.Script of the same tables in another: the two rule sets must be the
// same down to the expressions (nft --debug=netlink lists them), so what --dry-run prints is
// exactly what osm-init installs, and nft lists our rules as ruleset writes them.
func TestApplyIsWhatNftInstalls(t *testing.T) {
	requireKernel(t)
	for name, s := range kernelSpecs {
		t.Run(name, func(t *testing.T) {
			tables := []ruleset.Table{ruleset.Build(s, ruleset.IPv4), ruleset.Build(s, ruleset.IPv6)}
			ours, theirs := newNetns(t), newNetns(t)
			if err := Kernel(ours.fd).Apply(tables); err != nil {
				t.Fatal(err)
			}
			script := ruleset.Script(tables)
			cmd := exec.Command("ip", "netns", "exec", theirs.name, "nft", "-f", "-")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("nft -f refused ruleset.Script: %v\n%s\n%s", err, out, script)
			}
			if diff := cmp.Diff(theirs.bytecode(t), ours.bytecode(t)); diff != "" {
				t.Errorf("the expressions differ from nft's (-nft +osm-init):\n%s", diff)
			}
			for _, tbl := range tables {
				listed := ours.nft(t, "list", "table", tbl.Family.Keyword(), ruleset.TableName)
				for _, c := range tbl.Chains {
					for _, r := range c.Rules {
						if !strings.Contains(listed, "\t"+r.String()+"\n") {
							t.Errorf("nft lists no rule %q:\n%s", r, listed)
						}
					}
				}
			}
		})
	}
}

// TestApplyAgain: a second run with the same spec leaves the same rules, not twice as many;
// a run with another spec leaves that spec's rules and nothing of the first one's.
func TestApplyAgain(t *testing.T) {
	requireKernel(t)
	both := func(s redirect.Spec) []ruleset.Table {
		return []ruleset.Table{ruleset.Build(s, ruleset.IPv4), ruleset.Build(s, ruleset.IPv6)}
	}
	ns, fresh := newNetns(t), newNetns(t)
	k := Kernel(ns.fd)
	if err := k.Apply(both(kernelSpecs["exclusions"])); err != nil {
		t.Fatal(err)
	}
	first := ns.bytecode(t)
	if err := k.Apply(both(kernelSpecs["exclusions"])); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if diff := cmp.Diff(first, ns.bytecode(t)); diff != "" {
		t.Errorf("a second run changed the rules (-first +second):\n%s", diff)
	}
	if err := k.Apply(both(kernelSpecs["inclusions"])); err != nil {
		t.Fatal(err)
	}
	if err := Kernel(fresh.fd).Apply(both(kernelSpecs["inclusions"])); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fresh.bytecode(t), ns.bytecode(t)); diff != "" {
		t.Errorf("a run over another spec's rules left (-fresh +over):\n%s", diff)
	}
	if err := k.Remove(ruleset.IPv4, ruleset.IPv6); err != nil {
		t.Fatal(err)
	}
	if err := k.Remove(ruleset.IPv4, ruleset.IPv6); err != nil {
		t.Errorf("removing tables that are not there: %v", err)
	}
	if out := ns.nft(t, "list", "ruleset"); strings.TrimSpace(out) != "" {
		t.Errorf("after Remove:\n%s", out)
	}
}

// TestInstallWithoutIPv6: with the probe saying the kernel has no IPv6, Install programs the
// real kernel with the IPv4 table alone.
func TestInstallWithoutIPv6(t *testing.T) {
	requireKernel(t)
	ns := newNetns(t)
	sys := Kernel(ns.fd)
	sys.HasIPv6 = func() (bool, error) { return false, nil }
	out, err := Install(redirect.Default(), sys)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Installed) != 1 || out.Installed[0].Family != ruleset.IPv4 || len(out.Notes) != 1 {
		t.Errorf("Install = %+v, want the IPv4 table and a note", out)
	}
	if got := ns.nft(t, "list", "tables"); got != "table ip osm_proxy\n" {
		t.Errorf("nft list tables = %q, want the ip table alone", got)
	}
}

func requireKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("programs nf_tables in network namespaces: needs root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on this machine", tool)
		}
	}
}

// netns is a network namespace the test made, deleted at its end.
type netns struct {
	name string
	fd   int
}

var netnsCount atomic.Int32

func newNetns(t *testing.T) *netns {
	t.Helper()
	name := fmt.Sprintf("osm-init-test-%d-%d", os.Getpid(), netnsCount.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.Close()
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	return &netns{name: name, fd: int(f.Fd())}
}

func (n *netns) nft(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.name, "nft"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// handles are the numbers after a rule's "FAMILY TABLE CHAIN" line in nft's debug listing:
// the kernel's handles and positions, which say nothing of the rule.
var handles = regexp.MustCompile(`(?m)^(ip6? osm_proxy \w+)( \d+)+$`)

// bytecode is the namespace's rule set as nf_tables expressions, one rule after another.
func (n *netns) bytecode(t *testing.T) string {
	t.Helper()
	return handles.ReplaceAllString(n.nft(t, "--debug=netlink", "list", "ruleset"), "$1")
}
