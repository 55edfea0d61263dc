package nft

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// fakeKernel records transactions and refuses those holding a table of a refused family.
type fakeKernel struct {
	ipv6Probe error
	hasIPv6   bool
	refuse    map[ruleset.Family]error
	globals   []netip.Addr
	addrErr   error
	removeErr error

	installed map[ruleset.Family]bool
	calls     []string
}

func (k *fakeKernel) system() System {
	k.installed = map[ruleset.Family]bool{}
	return System{
		Apply: func(tables []ruleset.Table) error {
			var names []string
			for _, t := range tables {
				names = append(names, t.Family.String())
			}
			k.calls = append(k.calls, "apply "+strings.Join(names, "+"))
			for _, t := range tables {
				if err := k.refuse[t.Family]; err != nil {
					return err
				}
			}
			for _, t := range tables {
				k.installed[t.Family] = true
			}
			return nil
		},
		Remove: func(families ...ruleset.Family) error {
			k.calls = append(k.calls, "remove")
			if k.removeErr != nil {
				return k.removeErr
			}
			for _, f := range families {
				delete(k.installed, f)
			}
			return nil
		},
		HasIPv6:    func() (bool, error) { return k.hasIPv6, k.ipv6Probe },
		GlobalIPv6: func() ([]netip.Addr, error) { return k.globals, k.addrErr },
	}
}

var errNoIPv6NAT = errors.New("netlink receive: no such file or directory")

// TestInstall walks every branch of the IPv6 decision: what is installed in the end, what
// is said, which transactions were tried.
func TestInstall(t *testing.T) {
	global := []netip.Addr{netip.MustParseAddr("fd10:231::5")}
	for name, c := range map[string]struct {
		k         fakeKernel
		installed []ruleset.Family
		calls     []string
		err       string // substring of the error; "" for success
		note      string // substring of a note
	}{
		"a dual-stack kernel gets both tables in one transaction": {
			k: fakeKernel{hasIPv6: true}, installed: []ruleset.Family{ruleset.IPv4, ruleset.IPv6}, calls: []string{"apply IPv4+IPv6"}},
		"a kernel without IPv6 gets the IPv4 table, and a line says why": {
			k: fakeKernel{hasIPv6: false}, installed: []ruleset.Family{ruleset.IPv4}, calls: []string{"apply IPv4"},
			note: "IPv6 not redirected: this kernel has no IPv6 (no /proc/net/if_inet6), so only IPv4 is redirected"},
		"IPv6 refused, no global IPv6 address: IPv4 alone, and a warning": {
			k:         fakeKernel{hasIPv6: true, refuse: map[ruleset.Family]error{ruleset.IPv6: errNoIPv6NAT}},
			installed: []ruleset.Family{ruleset.IPv4}, calls: []string{"apply IPv4+IPv6", "apply IPv4"},
			note: "warning: the IPv6 redirect could not be installed (netlink receive: no such file or directory); the pod has no global IPv6 address"},
		"IPv6 refused with a global IPv6 address: a failure naming the address, and nothing installed": {
			k:     fakeKernel{hasIPv6: true, refuse: map[ruleset.Family]error{ruleset.IPv6: errNoIPv6NAT}, globals: global},
			calls: []string{"apply IPv4+IPv6", "apply IPv6"},
			err:   "the pod has IPv6 address fd10:231::5 but the IPv6 redirect could not be installed (netlink receive: no such file or directory): its IPv6 traffic would bypass Envoy"},
		"IPv6 refused and the addresses cannot be listed: a failure, as if there were a global one": {
			k:     fakeKernel{hasIPv6: true, refuse: map[ruleset.Family]error{ruleset.IPv6: errNoIPv6NAT}, addrErr: errors.New("netlink dump: EPERM")},
			calls: []string{"apply IPv4+IPv6", "apply IPv6"},
			err:   "the pod's addresses could not be listed (netlink dump: EPERM), so it may have a global IPv6 address, but the IPv6 redirect could not be installed"},
		"IPv4 refused on a dual-stack pod: IPv6 installed alone to find out, then taken out again": {
			k:     fakeKernel{hasIPv6: true, refuse: map[ruleset.Family]error{ruleset.IPv4: errNoIPv6NAT}, globals: global},
			calls: []string{"apply IPv4+IPv6", "apply IPv6", "remove"},
			err:   "the IPv4 redirect could not be installed: netlink receive"},
		"IPv4 refused and IPv6 cannot be taken out: both causes": {
			k: fakeKernel{hasIPv6: true, refuse: map[ruleset.Family]error{ruleset.IPv4: errNoIPv6NAT}, globals: global,
				removeErr: errors.New("EBUSY")},
			installed: []ruleset.Family{ruleset.IPv6}, calls: []string{"apply IPv4+IPv6", "apply IPv6", "remove"},
			err: "the IPv6 table, installed alone to find that out, could not be removed: EBUSY"},
		"IPv4 refused on an IPv4-only pod": {
			k:     fakeKernel{hasIPv6: true, refuse: map[ruleset.Family]error{ruleset.IPv4: errNoIPv6NAT}},
			calls: []string{"apply IPv4+IPv6", "apply IPv4"},
			err:   "the IPv4 redirect could not be installed"},
		"IPv4 refused on a kernel without IPv6": {
			k:     fakeKernel{refuse: map[ruleset.Family]error{ruleset.IPv4: os.ErrPermission}},
			calls: []string{"apply IPv4"},
			err:   "the IPv4 redirect could not be installed: permission denied (osm-init needs CAP_NET_ADMIN"},
		"an unreadable IPv6 probe: both families tried, and a note": {
			k: fakeKernel{hasIPv6: true, ipv6Probe: errors.New("EACCES")}, installed: []ruleset.Family{ruleset.IPv4, ruleset.IPv6},
			calls: []string{"apply IPv4+IPv6"}, note: "could not tell whether the kernel has IPv6 (EACCES)"},
	} {
		t.Run(name, func(t *testing.T) {
			sys := c.k.system()
			out, err := Install(redirect.Default(), sys)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("Install: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("Install = %v, want an error with %q", err, c.err)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("the error is more than one line: %q", err)
			}
			var installed []ruleset.Family
			for _, f := range []ruleset.Family{ruleset.IPv4, ruleset.IPv6} {
				if c.k.installed[f] {
					installed = append(installed, f)
				}
			}
			if !slices.Equal(installed, c.installed) {
				t.Errorf("installed %v, want %v", installed, c.installed)
			}
			if err == nil {
				var reported []ruleset.Family
				for _, tbl := range out.Installed {
					reported = append(reported, tbl.Family)
				}
				if !slices.Equal(reported, c.installed) {
					t.Errorf("Outcome.Installed %v, want %v", reported, c.installed)
				}
			}
			if !slices.Equal(c.k.calls, c.calls) {
				t.Errorf("transactions %q, want %q", c.k.calls, c.calls)
			}
			if notes := strings.Join(out.Notes, "\n"); c.note != "" && !strings.Contains(notes, c.note) || c.note == "" && notes != "" {
				t.Errorf("notes %q, want one with %q", out.Notes, c.note)
			}
		})
	}
}
