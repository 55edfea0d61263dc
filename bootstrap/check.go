package bootstrap

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkSettings reports every field of s that cannot be turned into a bootstrap, each error
// naming the field, the value and the accepted form. Resolve validates user input first;
// this is the generator's own guard, so that Generate never panics or emits a bootstrap
// Envoy would reject. The collector fields are only checked when tracing is enabled, since
// they are not used otherwise.
func checkSettings(s Settings) error {
	var errs []error
	if err := checkServiceName(s.ServiceName); err != nil {
		errs = append(errs, err)
	}
	if _, ok := parseCanonicalPorts(s.ServerFirstPorts); !ok {
		errs = append(errs, fmt.Errorf("serverFirstPorts: %q is not a list of ports, want ports from 1 to 65535, ascending without repeats, separated by commas (such as 21,110), or empty", s.ServerFirstPorts))
	}
	if s.Tracing.Enable {
		errs = append(errs, checkTracing(s.Tracing)...)
	}
	return errors.Join(errs...)
}

// checkServiceName accepts what Resolve may produce: a workload or pod name (DNS-1123
// subdomain) or a label value (letters, digits, '-', '_', '.'). It refuses only what would
// make a nonsensical node.cluster: empty, over 253 bytes, or with spaces or control runes.
func checkServiceName(name string) error {
	switch {
	case name == "":
		return errors.New(`serviceName: must not be empty`)
	case len(name) > 253:
		return fmt.Errorf("serviceName: %q is %d bytes long, want at most 253", name, len(name))
	case !utf8.ValidString(name) || strings.IndexFunc(name, notGraphic) >= 0:
		return fmt.Errorf("serviceName: %q has a space, control or invalid character, want a DNS-1123 label such as bookbuyer", name)
	}
	return nil
}

// checkTracing checks the collector fields of an enabled tracing configuration.
func checkTracing(t Tracing) []error {
	var errs []error
	if !validHost(t.Address) {
		errs = append(errs, fmt.Errorf("tracing.address: %q is not a DNS name or IP address, want e.g. jaeger.osm-system.svc.cluster.local", t.Address))
	}
	if t.Port < 1 || t.Port > 65535 {
		errs = append(errs, fmt.Errorf("tracing.port: %d is out of range, want 1..65535", t.Port))
	}
	if !validPath(t.Endpoint) {
		errs = append(errs, fmt.Errorf("tracing.endpoint: %q is not an HTTP path, want a path beginning with '/' without spaces, e.g. /api/v2/spans", t.Endpoint))
	}
	if math.IsNaN(t.Sampling) || t.Sampling < 0 || t.Sampling > 100 {
		errs = append(errs, fmt.Errorf("tracing.sampling: %v is out of range, want a percentage 0..100", t.Sampling))
	}
	if !validPropagation(t.Propagation) {
		errs = append(errs, fmt.Errorf("tracing.propagation: %q is not a propagation, want %q or %q", t.Propagation, PropagationB3, PropagationB3W3C))
	}
	return errs
}

// notGraphic reports runes that have no place in a name: spaces, controls, format runes.
func notGraphic(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }

// validHost accepts an IP address (v4 or v6, no zone) or a DNS name: dot-separated labels of
// letters, digits and inner hyphens, each 1..63 bytes, 253 bytes in all, with an optional
// trailing dot.
func validHost(h string) bool {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Zone() == ""
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !asciiAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// validPath accepts an absolute HTTP request path of visible ASCII (it becomes the :path
// header of the span POST), at most 1024 bytes, without a fragment.
func validPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 1024 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

func asciiAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
