//go:build !linux

package envoystandin

import (
	"errors"
	"net"
	"net/netip"
)

// OriginalDst needs Linux's conntrack: the stand-in runs in Linux pods only.
func OriginalDst(*net.TCPConn) (netip.AddrPort, error) {
	return netip.AddrPort{}, errors.New("SO_ORIGINAL_DST is Linux's")
}
