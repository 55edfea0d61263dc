package app

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

func TestDefaultOptionsAreValid(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("the defaults are invalid: %v", err)
	}
	if o.FailurePolicy != "Ignore" {
		t.Errorf("the default failure policy is %q, want Ignore", o.FailurePolicy)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	cases := map[string]struct {
		edit func(*Options)
		want string
	}{
		"namespace":      {func(o *Options) { o.Namespace = "Not_A_Namespace" }, "--osm-namespace"},
		"port":           {func(o *Options) { o.WebhookPort = 0 }, "--webhook-port"},
		"url scheme":     {func(o *Options) { o.WebhookURL = "http://127.0.0.1:9443" }, "--webhook-url"},
		"failure policy": {func(o *Options) { o.FailurePolicy = "Sometimes" }, "--webhook-failure-policy"},
		"timeout":        {func(o *Options) { o.TimeoutSeconds = 31 }, "--webhook-timeout-seconds"},
		"grace":          {func(o *Options) { o.ConfigMapGCGrace = 0 }, "--configmap-gc-grace"},
		"rollouts":       {func(o *Options) { o.MaxConcurrentRollouts = 0 }, "--max-concurrent-rollouts"},
		"qps":            {func(o *Options) { o.KubeAPIQPS = 0 }, "--kube-api-qps"},
		"burst":          {func(o *Options) { o.KubeAPIBurst = 0 }, "--kube-api-burst"},
		"log level":      {func(o *Options) { o.EnvoyLogLevel = "loud" }, "--envoy-log-level"},
		"image":          {func(o *Options) { o.EnvoyImage = " " }, "--envoy-image"},
		"cert validity":  {func(o *Options) { o.CertValidity = -time.Second }, "--cert-validity"},
		"host":           {func(o *Options) { o.WebhookHost = "not a host" }, "--webhook-host"},
		"concurrency":    {func(o *Options) { o.EnvoyConcurrency = 65 }, "--envoy-concurrency"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := DefaultOptions()
			tc.edit(&o)
			err := o.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %s, got %v", tc.want, err)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	o := DefaultOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	err := fs.Parse([]string{
		"--osm-namespace=mesh", "--webhook-url=https://127.0.0.1:1234", "--webhook-host=127.0.0.1",
		"--webhook-failure-policy=fail", "--webhook-timeout-seconds=3", "--configmap-gc-grace=3s",
		"--leader-elect", "--cert-validity=1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if p, _ := o.failurePolicy(); p != "Fail" {
		t.Errorf("failure policy %q, want Fail", p)
	}
	if o.Namespace != "mesh" || o.ConfigMapGCGrace != 3*time.Second || !o.LeaderElect || o.urlHost() != "127.0.0.1" {
		t.Errorf("flags not parsed: %+v", o)
	}
	for _, name := range []string{"kubeconfig", "mesh-config-name", "mesh-name", "webhook-port", "metrics-bind-address",
		"health-probe-bind-address", "max-concurrent-rollouts", "envoy-image", "init-image", "envoy-log-level",
		"envoy-concurrency", "outbound-port-exclusion-list", "inbound-port-exclusion-list",
		"outbound-ip-range-exclusion-list", "outbound-ip-range-inclusion-list"} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag --%s is missing", name)
		}
	}
	if !strings.Contains(fs.Lookup("webhook-failure-policy").Usage, "Ignore") {
		t.Error("the failure-policy help must explain the default")
	}
}

func TestTrafficFlags(t *testing.T) {
	o := DefaultOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	err := fs.Parse([]string{
		"--envoy-concurrency=4",
		"--outbound-port-exclusion-list=3306, 6379",
		"--inbound-port-exclusion-list=9090",
		"--outbound-ip-range-exclusion-list=169.254.169.254/32,fd00::/8",
		"--outbound-ip-range-inclusion-list=10.0.0.0/8",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	p := o.proxyConfig()
	if err := p.Validate(); err != nil {
		t.Fatalf("the proxy config of valid flags is invalid: %v", err)
	}
	want := inject.ProxyConfig{
		Concurrency:            4,
		OutboundPortExclusions: []uint16{3306, 6379},
		InboundPortExclusions:  []uint16{9090},
		OutboundIPExclusions:   []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("fd00::/8")},
		OutboundIPInclusions:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}
	got := inject.ProxyConfig{
		Concurrency:            p.Concurrency,
		OutboundPortExclusions: p.OutboundPortExclusions,
		InboundPortExclusions:  p.InboundPortExclusions,
		OutboundIPExclusions:   p.OutboundIPExclusions,
		OutboundIPInclusions:   p.OutboundIPInclusions,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("proxy config (-want +got):\n%s", diff)
	}

	// Without the flags: the default concurrency and no lists.
	d := DefaultOptions()
	def := d.proxyConfig()
	if def.Concurrency != inject.DefaultConcurrency || def.OutboundPortExclusions != nil || def.InboundPortExclusions != nil ||
		def.OutboundIPExclusions != nil || def.OutboundIPInclusions != nil {
		t.Errorf("the defaults set traffic settings: %+v", def)
	}
}

func TestTrafficFlagsRefuseBadValues(t *testing.T) {
	const (
		ports = "must be a comma-separated list of ports, each an integer from 1 to 65535"
		cidrs = "must be a comma-separated list of CIDRs, IPv4 or IPv6"
	)
	cases := map[string]struct {
		edit func(*Options)
		// want are the parts of the message: the flag, the value, the item and the accepted form.
		want []string
	}{
		"no worker thread": {
			func(o *Options) { o.EnvoyConcurrency = 0 },
			[]string{"--envoy-concurrency: 0: ", "must be an integer from 1 to 64"},
		},
		"more than 64 worker threads": {
			func(o *Options) { o.EnvoyConcurrency = 65 },
			[]string{"--envoy-concurrency: 65: ", "from 1 to 64"},
		},
		"a port out of range": {
			func(o *Options) { o.OutboundPortExclusionList = "3306,70000" },
			[]string{`--outbound-port-exclusion-list: "3306,70000": "70000" is not accepted: `, ports},
		},
		"port zero": {
			func(o *Options) { o.InboundPortExclusionList = "0" },
			[]string{`--inbound-port-exclusion-list: "0": "0" is not accepted`, ports},
		},
		"a port name": {
			func(o *Options) { o.InboundPortExclusionList = "http" },
			[]string{`--inbound-port-exclusion-list: "http": "http" is not accepted`, ports},
		},
		"an empty item": {
			func(o *Options) { o.OutboundPortExclusionList = "3306,,6379" },
			[]string{`--outbound-port-exclusion-list: "3306,,6379" has an empty item: `, ports},
		},
		"an address without a prefix length": {
			func(o *Options) { o.OutboundIPRangeExclusionList = "10.0.0.0/8,169.254.169.254" },
			[]string{`--outbound-ip-range-exclusion-list: "10.0.0.0/8,169.254.169.254": "169.254.169.254" is not accepted`, cidrs},
		},
		"a prefix too long for IPv4": {
			func(o *Options) { o.OutboundIPRangeInclusionList = "10.0.0.0/33" },
			[]string{`--outbound-ip-range-inclusion-list: "10.0.0.0/33": "10.0.0.0/33" is not accepted`, cidrs},
		},
		"a host name": {
			func(o *Options) { o.OutboundIPRangeInclusionList = "example.com/8" },
			[]string{`--outbound-ip-range-inclusion-list`, `"example.com/8" is not accepted`, cidrs},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := DefaultOptions()
			tc.edit(&o)
			err := o.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not contain %q: %v", w, err)
				}
			}
		})
	}
}
