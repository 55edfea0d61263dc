//go:build linux

package nft

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/google/nftables"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
)

// ifInet6 lists the kernel's IPv6 addresses. It exists whenever the kernel has IPv6, even
// with no address configured, and is missing when IPv6 is not built in or is turned off at
// boot (ipv6.disable=1): the one case in which no IPv6 table can be installed and none is
// needed. (procfs files report a size of 0: the test is whether the file exists.)
const ifInet6 = "/proc/net/if_inet6"

// Kernel is the running kernel. Apply and Remove program the network namespace netns (an
// open file of /proc/PID/ns/net or /run/netns/NAME), or the process's own when it is 0, as
// osm-init's is the pod's. HasIPv6 and GlobalIPv6 always look at the process's own: tests
// that program another namespace replace them.
func Kernel(netns int) System {
	return System{
		Apply:      func(tables []ruleset.Table) error { return apply(netns, tables) },
		Remove:     func(families ...ruleset.Family) error { return remove(netns, families) },
		HasIPv6:    hasIPv6,
		GlobalIPv6: globalIPv6,
	}
}

// apply sends one batch: for each table, add it (an empty table if it is not there, so that
// the delete cannot fail), delete it with whatever chains and rules an earlier run left in it,
// and add it again with its chains and rules. nf_tables applies a batch as one transaction:
// if any message fails, none takes effect.
func apply(netns int, tables []ruleset.Table) error {
	c, err := nftables.New(nftables.WithNetNSFd(netns))
	if err != nil {
		return fmt.Errorf("when opening a netlink connection to nf_tables: %w", err)
	}
	accept := nftables.ChainPolicyAccept
	names := make([]string, 0, len(tables))
	for _, t := range tables {
		names = append(names, "table "+t.Family.Keyword()+" "+ruleset.TableName)
		tbl := &nftables.Table{Name: ruleset.TableName, Family: family(t.Family)}
		c.AddTable(tbl)
		c.DelTable(tbl)
		c.AddTable(tbl)
		for _, ch := range t.Chains {
			hook := nftables.ChainHookPrerouting
			if ch.Hook == ruleset.Output {
				hook = nftables.ChainHookOutput
			}
			chain := c.AddChain(&nftables.Chain{Name: ch.Name, Table: tbl, Type: nftables.ChainTypeNAT, Hooknum: hook,
				Priority: nftables.ChainPriorityRef(nftables.ChainPriority(ch.Priority)), Policy: &accept})
			for _, r := range ch.Rules {
				exprs, err := ruleExprs(r)
				if err != nil {
					return err
				}
				c.AddRule(&nftables.Rule{Table: tbl, Chain: chain, Exprs: exprs})
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nf_tables refused the transaction of %s: %w", strings.Join(names, " and "), err)
	}
	return nil
}

// remove deletes osm-init's table of each family in one transaction (adding it first, so
// that a missing table is no error).
func remove(netns int, families []ruleset.Family) error {
	c, err := nftables.New(nftables.WithNetNSFd(netns))
	if err != nil {
		return fmt.Errorf("when opening a netlink connection to nf_tables: %w", err)
	}
	for _, f := range families {
		tbl := &nftables.Table{Name: ruleset.TableName, Family: family(f)}
		c.AddTable(tbl)
		c.DelTable(tbl)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nf_tables refused to delete osm-init's tables: %w", err)
	}
	return nil
}

func hasIPv6() (bool, error) {
	_, err := os.Stat(ifInet6)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return true, err
	}
}

// globalIPv6 lists the IPv6 addresses of the network namespace's interfaces that reach
// beyond the pod: not loopback, not link-local (a pod with only fe80:: addresses cannot be
// reached over IPv6 from elsewhere, so nothing bypasses Envoy without a redirect).
func globalIPv6() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("when listing the pod's addresses: %w", err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		addr, ok := netip.AddrFromSlice(ipnet.IP)
		if addr = addr.Unmap(); ok && addr.Is6() && addr.IsGlobalUnicast() {
			out = append(out, addr)
		}
	}
	return out, nil
}
