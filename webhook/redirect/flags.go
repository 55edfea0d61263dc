package redirect

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The accepted forms, as error messages state them.
const (
	acceptedPort     = "must be an integer from 1 to 65535"
	acceptedUID      = "must be an integer from 0 to 4294967294"
	acceptedPortList = "must be a comma-separated list of ports without spaces, each an integer from 1 to 65535 (such as 3306,6379)"
	acceptedCIDRList = "must be a comma-separated list of CIDRs without spaces, IPv4 or IPv6, each written with its network " +
		"address (10.0.0.0/8, not 10.1.2.3/8), no IPv4-mapped IPv6 range, no zone (such as 10.0.0.0/8,fd00::/8)"
)

// flag is one command-line flag: how it reads its value into a Spec and how it renders the
// Spec's value (ok false: the flag is left out, an empty list).
type flag struct {
	name string
	set  func(s *Spec, value string) error
	get  func(s Spec) (value string, ok bool)
}

// flags are osm-init's flags in the order Args writes them. This table is the one place that
// says how a Spec is written and read.
var flags = []flag{
	{"--inbound-port",
		func(s *Spec, v string) error { return parsePort(v, &s.InboundPort) },
		func(s Spec) (string, bool) { return strconv.Itoa(int(s.InboundPort)), true }},
	{"--outbound-port",
		func(s *Spec, v string) error { return parsePort(v, &s.OutboundPort) },
		func(s Spec) (string, bool) { return strconv.Itoa(int(s.OutboundPort)), true }},
	{"--proxy-uid",
		func(s *Spec, v string) error { return parseUID(v, &s.ProxyUID) },
		func(s Spec) (string, bool) { return strconv.FormatUint(uint64(s.ProxyUID), 10), true }},
	{"--inbound-port-exclusions",
		func(s *Spec, v string) error { return parsePorts(v, &s.InboundPortExclusions) },
		func(s Spec) (string, bool) { return joinPorts(s.InboundPortExclusions) }},
	{"--outbound-port-exclusions",
		func(s *Spec, v string) error { return parsePorts(v, &s.OutboundPortExclusions) },
		func(s Spec) (string, bool) { return joinPorts(s.OutboundPortExclusions) }},
	{"--outbound-ip-exclusions",
		func(s *Spec, v string) error { return parseCIDRs(v, &s.OutboundIPExclusions) },
		func(s Spec) (string, bool) { return joinCIDRs(s.OutboundIPExclusions) }},
	{"--outbound-ip-inclusions",
		func(s *Spec, v string) error { return parseCIDRs(v, &s.OutboundIPInclusions) },
		func(s Spec) (string, bool) { return joinCIDRs(s.OutboundIPInclusions) }},
}

// FlagNames are the flags Parse accepts, in the order Args writes them.
func FlagNames() []string {
	names := make([]string, 0, len(flags))
	for _, f := range flags {
		names = append(names, f.name)
	}
	return names
}

// Args is s as osm-init's command line: every flag in FlagNames' order as --NAME=VALUE, the
// empty lists left out. The same Spec always gives the same arguments.
func (s Spec) Args() []string {
	args := make([]string, 0, len(flags))
	for _, f := range flags {
		if v, ok := f.get(s); ok {
			args = append(args, f.name+"="+v)
		}
	}
	return args
}

// Parse reads osm-init's command line, as Args writes it: only --NAME=VALUE arguments, each
// flag at most once. A flag left out keeps its value from Default (the lists are then
// empty). An unknown or repeated flag, an argument of another form, a value that is not of
// the flag's form and a Spec that does not Validate are errors that name the flag, the value
// and the accepted form.
func Parse(args []string) (Spec, error) {
	s := Default()
	seen := map[string]bool{}
	for _, arg := range args {
		name, value, hasValue := strings.Cut(arg, "=")
		f, known := lookup(name)
		switch {
		case !known:
			return Spec{}, fmt.Errorf("unknown argument %q: the arguments are FLAG=VALUE with FLAG one of %s", arg, strings.Join(FlagNames(), ", "))
		case !hasValue:
			return Spec{}, fmt.Errorf("%s has no value: write %s=VALUE, in one argument", name, name)
		case seen[name]:
			return Spec{}, fmt.Errorf("%s is given twice (the second time as %q): give each flag once", name, arg)
		}
		seen[name] = true
		if err := f.set(&s, value); err != nil {
			return Spec{}, fmt.Errorf("%s=%s: %w", name, value, err)
		}
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func lookup(name string) (flag, bool) {
	for _, f := range flags {
		if f.name == name {
			return f, true
		}
	}
	return flag{}, false
}

// parsePort reads a port: decimal digits only (strconv.ParseUint takes no sign or space), 1
// to 65535.
func parsePort(v string, into *uint16) error {
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil || n == 0 {
		return errors.New("not a port: " + acceptedPort)
	}
	*into = uint16(n)
	return nil
}

// parseUID reads a uid: decimal digits, up to (uid_t)-1 excluded.
func parseUID(v string, into *uint32) error {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == noUID {
		return errors.New("not a uid: " + acceptedUID)
	}
	*into = uint32(n)
	return nil
}

func parsePorts(v string, into *[]uint16) error {
	var out []uint16
	for item := range strings.SplitSeq(v, ",") {
		var p uint16
		if err := parsePort(item, &p); err != nil {
			return fmt.Errorf("%q is not a port: %s", item, acceptedPortList)
		}
		out = append(out, p)
	}
	*into = out
	return nil
}

func parseCIDRs(v string, into *[]netip.Prefix) error {
	var out []netip.Prefix
	for item := range strings.SplitSeq(v, ",") {
		p, err := netip.ParsePrefix(item)
		switch {
		case err != nil:
			return fmt.Errorf("%q is not a CIDR: %s", item, acceptedCIDRList)
		case p.Addr().Is4In6() || p.Addr().Zone() != "":
			return fmt.Errorf("%q is an IPv4-mapped IPv6 range or has a zone, which no redirect rule can mean: %s", item, acceptedCIDRList)
		case p != p.Masked():
			return fmt.Errorf("%q is not written as its network address %s: %s", item, p.Masked(), acceptedCIDRList)
		}
		out = append(out, p)
	}
	*into = out
	return nil
}

// joinPorts is the flag value of a port list; ok is false for an empty list, which is left
// out of the command line.
func joinPorts(ports []uint16) (string, bool) {
	items := make([]string, len(ports))
	for i, p := range ports {
		items[i] = strconv.Itoa(int(p))
	}
	return strings.Join(items, ","), len(items) > 0
}

func joinCIDRs(prefixes []netip.Prefix) (string, bool) {
	items := make([]string, len(prefixes))
	for i, p := range prefixes {
		items[i] = p.String()
	}
	return strings.Join(items, ","), len(items) > 0
}
