package load

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// checkURL parses the target URL and refuses anything but https to a loopback host: this
// tool must never send traffic off the machine.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid -url %q: %w", raw, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("invalid -url %q: the scheme must be https (admission webhooks are served over TLS)", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid -url %q: no host", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("refusing -url %q: host %q is not a loopback address (127.0.0.0/8, ::1 or localhost); "+
			"this tool only sends traffic to the local machine", raw, u.Hostname())
	}
	return u, nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP literal. Other names
// are not resolved: a name that happens to resolve to loopback today is still refused.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.EqualFold(host, "localhost.") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// loopbackOnly is a net.Dialer Control function that refuses to connect to any address that
// is not loopback (the resolved address of "localhost" included).
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: %w", address, err)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !addr.Unmap().IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}
