//go:build !linux

package nft

import (
	"errors"
	"net/netip"
	"runtime"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
)

// Kernel is a System whose every call fails: osm-init programs Linux's nf_tables, and
// builds elsewhere only so that `osm-init --dry-run` can show the rules.
func Kernel(int) System {
	err := errors.New("osm-init installs the redirect with Linux's nf_tables; this is " + runtime.GOOS)
	return System{
		Apply:      func([]ruleset.Table) error { return err },
		Remove:     func(...ruleset.Family) error { return err },
		HasIPv6:    func() (bool, error) { return false, err },
		GlobalIPv6: func() ([]netip.Addr, error) { return nil, err },
	}
}
