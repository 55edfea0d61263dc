package bootstrap

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// This file holds the one validator of each tracing field. The annotation parsers, the
// MeshConfig overlay (meshTracing) and the generator's guard (checkSettings) all call them,
// and they state the same rules as the MeshConfig CRD's OpenAPI bounds and CEL rules
// (api/v1alpha2/types.go); manifests/tracing_fields_test.go feeds the same values to all of
// them and to the generated CRD, and fails when any two disagree.

// Limits of the accepted values.
const (
	maxAddressLen  = 253 // a DNS name
	maxLabelLen    = 63  // a DNS label
	maxEndpointLen = 1024
	maxSamplingLen = 32 // "12.5" needs 4; anything longer is a mistake
	minPort        = 1
	maxPort        = 65535
	minSampling    = 0
	maxSampling    = 100
)

// parseEnable accepts "true" and "false" in any ASCII case. Not strings.EqualFold, which
// folds Unicode: "fal\u017fe" (LONG S) would read as false.
func parseEnable(v string) (value, ok bool) {
	switch asciiLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parsePort accepts a decimal integer (digits only) that validPort accepts.
func parsePort(v string) (uint32, bool) {
	if v == "" || len(v) > 5 {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	return n, validPort(int64(n))
}

// validPort reports a TCP port from 1 to 65535.
func validPort(p int64) bool { return p >= minPort && p <= maxPort }

// parsePortList reads an annotation's list of ports: items separated by commas, spaces
// around them allowed, each a port as parsePort reads it. Nothing but spaces is an empty
// list; an empty item ("22,,25") is refused.
func parsePortList(v string) ([]uint32, bool) {
	if strings.TrimSpace(v) == "" {
		return nil, true
	}
	var out []uint32
	for item := range strings.SplitSeq(v, ",") {
		p, ok := parsePort(strings.TrimSpace(item))
		if !ok {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// canonicalPorts sorts ports, drops repeats and joins them with commas: the form of
// Settings.ServerFirstPorts.
func canonicalPorts(ports []uint32) string {
	slices.Sort(ports)
	ports = slices.Compact(ports)
	b := make([]byte, 0, 6*len(ports))
	for i, p := range ports {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	return string(b)
}

// defaultServerFirst is DefaultServerFirstPorts as numbers.
func defaultServerFirst() []uint32 {
	ports, _ := parseCanonicalPorts(DefaultServerFirstPorts)
	return ports
}

// serverFirstPorts are every server-first port of s, ascending: the defaults and s's own
// (which checkSettings found canonical).
func serverFirstPorts(s Settings) []uint32 {
	extra, _ := parseCanonicalPorts(s.ServerFirstPorts)
	ports := append(defaultServerFirst(), extra...)
	slices.Sort(ports)
	return slices.Compact(ports)
}

// parseCanonicalPorts reads Settings.ServerFirstPorts: "" or ports from 1 to 65535,
// ascending without repeats, separated by single commas.
func parseCanonicalPorts(v string) ([]uint32, bool) {
	if v == "" {
		return nil, true
	}
	out := make([]uint32, 0, strings.Count(v, ",")+1)
	for item := range strings.SplitSeq(v, ",") {
		p, ok := parsePort(item)
		if !ok || len(out) > 0 && p <= out[len(out)-1] {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// parseSampling accepts a plain decimal number (digits with at most one '.') from 0 to 100.
// Signs, exponents, hex, NaN and infinities are refused.
func parseSampling(v string) (float64, bool) {
	if v == "" || len(v) > maxSamplingLen {
		return 0, false
	}
	digits, dots := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !validSampling(f) {
		return 0, false
	}
	return f, true
}

// validSampling reports a percentage from 0 to 100.
func validSampling(f float64) bool {
	return !math.IsNaN(f) && f >= minSampling && f <= maxSampling
}

// validAddress accepts an IP address or a DNS name: a lowercase RFC 1123 subdomain of at
// most 253 bytes. A name of digits and dots only must be an IP address, so 10.0.0.256 is
// refused rather than looked up as a host name. An IP address is what the CRD's CEL isIP()
// accepts: IPv4 or IPv6, without a zone, and not an IPv4-mapped IPv6 address (write
// 10.0.0.7, not ::ffff:10.0.0.7). This is the rule the MeshConfig CRD's CEL validation
// applies too.
func validAddress(v string) bool {
	if v == "" || len(v) > maxAddressLen {
		return false
	}
	if strings.Contains(v, ":") || strings.Trim(v, "0123456789.") == "" {
		ip, err := netip.ParseAddr(v) // only here: a failed parse allocates its error
		return err == nil && ip.Zone() == "" && !ip.Is4In6()
	}
	return isDNSSubdomain(v)
}

// isDNSSubdomain reports a lowercase RFC 1123 subdomain: dot-separated DNS labels.
func isDNSSubdomain(v string) bool {
	if v == "" || len(v) > maxAddressLen {
		return false
	}
	for {
		label, rest, more := strings.Cut(v, ".")
		if !isDNSLabel(label) {
			return false
		}
		if !more {
			return true
		}
		v = rest
	}
}

// isDNSLabel reports a DNS-1123 label: 1 to 63 lowercase letters, digits and '-', starting
// and ending with a letter or digit.
func isDNSLabel(v string) bool {
	if v == "" || len(v) > maxLabelLen || v[0] == '-' || v[len(v)-1] == '-' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// validPropagation accepts "b3" and "b3+w3c", exactly (the CRD's enum is case-sensitive too).
func validPropagation(v string) bool { return v == PropagationB3 || v == PropagationB3W3C }

// validProtocol accepts "zipkin" and "opentelemetry", exactly (as the CRD's enum).
func validProtocol(v string) bool { return v == ProtocolZipkin || v == ProtocolOpenTelemetry }

// validServiceName reports a DNS-1123 label, the form the service-name annotation must take.
func validServiceName(v string) bool { return isDNSLabel(v) }

// validEndpoint accepts an HTTP path: it begins with '/', has at most 1024 bytes of visible
// ASCII (no whitespace, no control or non-ASCII bytes; percent-encode those) and no '#', since
// a fragment is never sent. A query string is allowed: some collectors take the tenant there.
// The MeshConfig CRD's maxLength and CEL rules state the same.
func validEndpoint(v string) bool {
	if v == "" || v[0] != '/' || len(v) > maxEndpointLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func asciiAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// maxSpanName bounds a span name format (the CRD's maxLength).
const maxSpanName = 256

// validSpanName accepts an Envoy format string of at most maxSpanName visible ASCII
// characters and spaces whose commands are SpanNameCommands: the CRD's CEL rule on
// spec.observability.tracing.spanNames, written out (manifests.TestSpanNamesAgreeWithCRD holds the
// two equal).
func validSpanName(v string) bool {
	if v == "" || len(v) > maxSpanName {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < ' ' || c > '~' {
			return false
		}
		if c != '%' {
			continue
		}
		end := strings.IndexByte(v[i+1:], '%')
		if end < 0 || !validSpanCommand(v[i+1:i+1+end]) {
			return false
		}
		i += end + 1
	}
	return true
}

// validSpanCommand accepts PROTOCOL, DOWNSTREAM_LOCAL_PORT, HOSTNAME and REQ(H), REQ(H?ALT),
// each REQ optionally truncated, :N with N from 1 to 9999.
func validSpanCommand(c string) bool {
	switch c {
	case "PROTOCOL", "DOWNSTREAM_LOCAL_PORT", "HOSTNAME":
		return true
	}
	rest, ok := strings.CutPrefix(c, "REQ(")
	if !ok {
		return false
	}
	headers, after, ok := strings.Cut(rest, ")")
	if !ok {
		return false
	}
	main, alt, hasAlt := strings.Cut(headers, "?")
	if !validFormatHeader(main) || hasAlt && !validFormatHeader(alt) {
		return false
	}
	if after == "" {
		return true
	}
	n, ok := strings.CutPrefix(after, ":")
	return ok && len(n) >= 1 && len(n) <= 4 && n[0] != '0' && strings.Trim(n, "0123456789") == ""
}

// validFormatHeader accepts the header names of a REQ command: letters, digits, '-', '_',
// '.' and ':' (for pseudo-headers such as :authority).
func validFormatHeader(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !asciiAlnum(c) && c != '-' && c != '_' && c != '.' && c != ':' {
			return false
		}
	}
	return true
}
