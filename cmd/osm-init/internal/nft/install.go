package nft

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// System is what Install needs of the machine. Kernel returns the real one.
type System struct {
	// Apply installs the tables in one transaction: all of them or none.
	Apply func(tables []ruleset.Table) error
	// Remove deletes osm-init's table of each family, if there is one, in one transaction.
	Remove func(families ...ruleset.Family) error
	// HasIPv6 says whether the kernel has IPv6 at all.
	HasIPv6 func() (bool, error)
	// GlobalIPv6 lists the pod's global IPv6 addresses: neither loopback nor link-local.
	GlobalIPv6 func() ([]netip.Addr, error)
}

// Outcome is what Install did.
type Outcome struct {
	// Installed are the tables now in the kernel, IPv4's first.
	Installed []ruleset.Table
	// Notes say why a family was left out, one line each.
	Notes []string
	// KernelIPv6 is false when the kernel has no IPv6 at all (so Envoy cannot bind [::]);
	// true when it has, or when that could not be told.
	KernelIPv6 bool
}

// Install puts the redirect of s into the kernel: the tables of both families in one
// transaction, or IPv4's alone when the kernel has no IPv6, or when it refuses the IPv6
// table and the pod has no global IPv6 address. It fails, leaving no table of its own
// installed, when a table the pod needs cannot be installed.
func Install(s redirect.Spec, sys System) (Outcome, error) {
	v4, v6 := ruleset.Build(s, ruleset.IPv4), ruleset.Build(s, ruleset.IPv6)
	var notes []string
	hasIPv6, err := sys.HasIPv6()
	switch {
	case err != nil:
		// Trying costs nothing: a kernel without IPv6 refuses the table and the rules below
		// take over.
		notes = append(notes, fmt.Sprintf("could not tell whether the kernel has IPv6 (%v); trying to redirect IPv6 too", err))
	case !hasIPv6:
		if err := sys.Apply([]ruleset.Table{v4}); err != nil {
			return Outcome{}, fmt.Errorf("the IPv4 redirect could not be installed: %w", hint(err))
		}
		return Outcome{Installed: []ruleset.Table{v4}, Notes: append(notes,
			"IPv6 not redirected: this kernel has no IPv6 (no /proc/net/if_inet6), so only IPv4 is redirected")}, nil
	}
	errBoth := sys.Apply([]ruleset.Table{v4, v6})
	if errBoth == nil {
		return Outcome{Installed: []ruleset.Table{v4, v6}, Notes: notes, KernelIPv6: true}, nil
	}

	// One family was refused; installing one alone says which. Which one to try depends on
	// whether IPv6 must be redirected: if it must, trying IPv6 alone leaves nothing behind
	// in the likely case that IPv6 is what the kernel refuses.
	globals, addrErr := sys.GlobalIPv6()
	if addrErr == nil && len(globals) == 0 {
		if err := sys.Apply([]ruleset.Table{v4}); err != nil {
			return Outcome{}, fmt.Errorf("the IPv4 redirect could not be installed: %w", hint(err))
		}
		return Outcome{Installed: []ruleset.Table{v4}, KernelIPv6: true, Notes: append(notes, fmt.Sprintf(
			"warning: the IPv6 redirect could not be installed (%v); the pod has no global IPv6 address, so only IPv4 is redirected", hint(errBoth)))}, nil
	}
	if errV6 := sys.Apply([]ruleset.Table{v6}); errV6 != nil {
		who := fmt.Sprintf("the pod's addresses could not be listed (%v), so it may have a global IPv6 address,", addrErr)
		if addrErr == nil {
			who = fmt.Sprintf("the pod has IPv6 address %s", globals[0])
		}
		return Outcome{}, fmt.Errorf("%s but the IPv6 redirect could not be installed (%w): its IPv6 traffic would bypass Envoy", who, hint(errV6))
	}
	// IPv6 alone went in, so IPv4 is what the kernel refused. Take IPv6 out again: the pod
	// gets all of its redirect or none of it.
	errV4 := fmt.Errorf("the IPv4 redirect could not be installed: %w", hint(errBoth))
	if err := sys.Remove(ruleset.IPv6); err != nil {
		return Outcome{}, fmt.Errorf("%w; and the IPv6 table, installed alone to find that out, could not be removed: %w", errV4, err)
	}
	return Outcome{}, errV4
}

// hint adds to a permission error what most often causes it.
func hint(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w (osm-init needs CAP_NET_ADMIN in the pod's network namespace, and no other process may own a table named %s)",
			err, ruleset.TableName)
	}
	return err
}
