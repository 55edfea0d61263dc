package envoystandin

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// soOriginalDst is SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and IP6T_SO_ORIGINAL_DST
// (linux/netfilter_ipv6/ip6_tables.h): both are 80, at SOL_IP and SOL_IPV6 respectively.
const soOriginalDst = 80

// OriginalDst is where a connection that iptables REDIRECTed was going: conntrack's
// original destination, read with getsockopt(SO_ORIGINAL_DST) as Envoy's original_dst
// listener filter reads it. A connection that was not NATed either has no conntrack entry
// (an error) or reports its own local address.
//
// x/sys/unix has no getsockopt for a sockaddr; the two it has for 16- and 32-byte structs
// receive sockaddr_in (16 bytes) and sockaddr_in6 (28, within 32) unchanged, the kernel
// checking only that the buffer is large enough.
func OriginalDst(c *net.TCPConn) (netip.AddrPort, error) {
	local, ok := c.LocalAddr().(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("local address %v is not TCP", c.LocalAddr())
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var dst netip.AddrPort
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		if local.IP.To4() != nil {
			var m *unix.IPv6Mreq
			if m, sockErr = unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, soOriginalDst); sockErr == nil {
				// struct sockaddr_in: family (2 bytes), port (big-endian), address.
				b := m.Multiaddr
				dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4]))
			}
			return
		}
		var info *unix.IPv6MTUInfo
		if info, sockErr = unix.GetsockoptIPv6MTUInfo(int(fd), unix.SOL_IPV6, soOriginalDst); sockErr == nil {
			// The port field holds the network-order bytes: read them back as stored.
			port := binary.BigEndian.Uint16(binary.NativeEndian.AppendUint16(nil, info.Addr.Port))
			dst = netip.AddrPortFrom(netip.AddrFrom16(info.Addr.Addr).Unmap(), port)
		}
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	if sockErr != nil {
		return netip.AddrPort{}, fmt.Errorf("getsockopt SO_ORIGINAL_DST: %w (was the connection redirected by iptables?)", sockErr)
	}
	return dst, nil
}
