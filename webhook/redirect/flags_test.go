package redirect

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// full is a Spec with every field set.
var full = Spec{
	InboundPort: 15003, OutboundPort: 15001, ProxyUID: 1500,
	InboundPortExclusions:  []uint16{8081, 9090},
	OutboundPortExclusions: []uint16{3306},
	OutboundIPExclusions:   prefixes("10.0.0.0/8", "fd00::/8"),
	OutboundIPInclusions:   prefixes("192.168.0.0/16", "2001:db8::/32", "0.0.0.0/0"),
}

// TestArgs pins the command line the injector renders: the flags in a fixed order, the empty
// lists left out.
func TestArgs(t *testing.T) {
	for name, c := range map[string]struct {
		spec Spec
		want []string
	}{
		"the default spec has the listeners and the uid only": {Default(),
			[]string{"--inbound-port=15003", "--outbound-port=15001", "--proxy-uid=1500"}},
		"every list is written in its order": {full, []string{
			"--inbound-port=15003", "--outbound-port=15001", "--proxy-uid=1500",
			"--inbound-port-exclusions=8081,9090", "--outbound-port-exclusions=3306",
			"--outbound-ip-exclusions=10.0.0.0/8,fd00::/8", "--outbound-ip-inclusions=192.168.0.0/16,2001:db8::/32,0.0.0.0/0"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := c.spec.Args(); !slices.Equal(got, c.want) {
				t.Errorf("Args() =\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// TestRoundTrip: what Args writes, Parse reads back as the same Spec, whatever the flags'
// order on the command line.
func TestRoundTrip(t *testing.T) {
	for name, s := range map[string]Spec{"default": Default(), "full": full,
		"other listeners and uid": {InboundPort: 1, OutboundPort: 65535, ProxyUID: 0}} {
		t.Run(name, func(t *testing.T) {
			args := s.Args()
			got, err := Parse(args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", args, err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("Parse(Args()) = %+v, want %+v", got, s)
			}
			slices.Reverse(args)
			if got, err := Parse(args); err != nil || !reflect.DeepEqual(got, s) {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", args, got, err, s)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	got, err := Parse(nil)
	if err != nil || !reflect.DeepEqual(got, Default()) {
		t.Errorf("Parse(nil) = %+v, %v; want Default() %+v", got, err, Default())
	}
}

// TestParseErrors: each refusal names the flag, the value and the accepted form.
func TestParseErrors(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		want []string // substrings of the error
	}{
		"an unknown flag":     {[]string{"--inbound=15003"}, []string{`unknown argument "--inbound=15003"`, "--inbound-port, --outbound-port"}},
		"a single dash":       {[]string{"-inbound-port=15003"}, []string{`unknown argument "-inbound-port=15003"`}},
		"a positional word":   {[]string{"15003"}, []string{`unknown argument "15003"`}},
		"a flag and no value": {[]string{"--inbound-port", "15003"}, []string{"--inbound-port has no value: write --inbound-port=VALUE"}},
		"a repeated flag": {[]string{"--proxy-uid=1500", "--proxy-uid=1501"},
			[]string{`--proxy-uid is given twice (the second time as "--proxy-uid=1501")`}},
		"a port over 65535": {[]string{"--inbound-port=70000"}, []string{"--inbound-port=70000: not a port: must be an integer from 1 to 65535"}},
		"port 0":            {[]string{"--outbound-port=0"}, []string{"--outbound-port=0: not a port"}},
		"a signed port":     {[]string{"--outbound-port=+15001"}, []string{"--outbound-port=+15001: not a port"}},
		"a uid of -1":       {[]string{"--proxy-uid=4294967295"}, []string{"--proxy-uid=4294967295: not a uid: must be an integer from 0 to 4294967294"}},
		"a negative uid":    {[]string{"--proxy-uid=-1"}, []string{"--proxy-uid=-1: not a uid"}},
		"a bad port in a list": {[]string{"--inbound-port-exclusions=8080,http"},
			[]string{`--inbound-port-exclusions=8080,http: "http" is not a port: must be a comma-separated list of ports`}},
		"spaces in a list": {[]string{"--outbound-port-exclusions=3306, 6379"}, []string{`" 6379" is not a port`}},
		"an empty list":    {[]string{"--outbound-port-exclusions="}, []string{`--outbound-port-exclusions=: "" is not a port`}},
		"a bad CIDR": {[]string{"--outbound-ip-exclusions=10.0.0.0/33"},
			[]string{`--outbound-ip-exclusions=10.0.0.0/33: "10.0.0.0/33" is not a CIDR: must be a comma-separated list of CIDRs`}},
		"an address without length": {[]string{"--outbound-ip-inclusions=10.0.0.1"}, []string{`"10.0.0.1" is not a CIDR`}},
		"a host bit set": {[]string{"--outbound-ip-exclusions=10.1.2.3/8"},
			[]string{`"10.1.2.3/8" is not written as its network address 10.0.0.0/8`}},
		"an IPv4-mapped range": {[]string{"--outbound-ip-inclusions=::ffff:10.0.0.0/104"}, []string{"IPv4-mapped IPv6 range"}},
		"equal listener ports": {[]string{"--inbound-port=15001"},
			[]string{"the inbound and outbound ports are both 15001"}},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Parse(c.args)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", c.args, s)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) = %q, want it to contain %q", c.args, err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	if err := full.Validate(); err != nil {
		t.Errorf("full.Validate() = %v", err)
	}
	for name, c := range map[string]struct {
		spec Spec
		want string
	}{
		"the zero Spec":        {Spec{}, "--inbound-port=0: not a port"},
		"port 0 in a list":     {Spec{InboundPort: 1, OutboundPort: 2, InboundPortExclusions: []uint16{80, 0}}, `"0" is not a port`},
		"an unmasked range":    {Spec{InboundPort: 1, OutboundPort: 2, OutboundIPExclusions: []netip.Prefix{netip.PrefixFrom(netip.MustParseAddr("10.1.2.3"), 8)}}, "not written as its network address"},
		"a uid no process has": {Spec{InboundPort: 1, OutboundPort: 2, ProxyUID: 1<<32 - 1}, "not a uid"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.spec.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestFixedInboundExclusions(t *testing.T) {
	if got := FixedInboundExclusions(); !slices.Equal(got, []uint16{15021, 15000, 15090}) {
		t.Errorf("FixedInboundExclusions() = %v, want the health, admin and Prometheus ports [15021 15000 15090]", got)
	}
}
