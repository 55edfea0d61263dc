package manifests

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"helm.sh/helm/v3/pkg/strvals"

	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
)

// TestChartTrafficSettings: the sidecar's concurrency and the mesh-wide redirect lists reach
// osm-injector as the flags it parses and validates, from a values file (YAML numbers, which
// Helm reads as floats) and from --set (as helm and osm install parse it).
func TestChartTrafficSettings(t *testing.T) {
	fromSet := map[string]any{}
	for _, s := range []string{
		"osm.sidecar.concurrency=8",
		"osm.outboundPortExclusionList={3306,6379}",
		"osm.inboundPortExclusionList={9090}",
		"osm.outboundIPRangeExclusionList={169.254.169.254/32,fd00::/8}",
		"osm.outboundIPRangeInclusionList={10.0.0.0/8}",
	} {
		if err := strvals.ParseInto(s, fromSet); err != nil {
			t.Fatalf("--set %s: %v", s, err)
		}
	}
	cases := map[string]map[string]any{
		"a values file": set(
			"osm.sidecar.concurrency=8",
			"osm.outboundPortExclusionList=[3306, 6379]",
			"osm.inboundPortExclusionList=[9090]",
			"osm.outboundIPRangeExclusionList=[169.254.169.254/32, 'fd00::/8']",
			"osm.outboundIPRangeInclusionList=[10.0.0.0/8]",
		),
		"--set": fromSet,
	}
	want := map[string]string{
		"--envoy-concurrency":                "8",
		"--outbound-port-exclusion-list":     "3306,6379",
		"--inbound-port-exclusion-list":      "9090",
		"--outbound-ip-range-exclusion-list": "169.254.169.254/32,fd00::/8",
		"--outbound-ip-range-inclusion-list": "10.0.0.0/8",
	}
	for name, vals := range cases {
		t.Run(name, func(t *testing.T) {
			c := injectorContainer(t, mustRender(t, testNamespace, vals))
			for flag, v := range want {
				if got, ok := argValue(c.Args, flag); !ok || got != v {
					t.Errorf("arg %s = %q (present %t), want %q; args: %q", flag, got, ok, v, c.Args)
				}
			}
			injectorAccepts(t, c.Args)

			o := app.DefaultOptions()
			fs := pflag.NewFlagSet("osm-injector", pflag.ContinueOnError)
			fs.ParseErrorsAllowlist.UnknownFlags = true
			o.BindFlags(fs)
			if err := fs.Parse(c.Args); err != nil {
				t.Fatal(err)
			}
			if o.EnvoyConcurrency != 8 || o.OutboundPortExclusionList != "3306,6379" || o.InboundPortExclusionList != "9090" ||
				o.OutboundIPRangeExclusionList != "169.254.169.254/32,fd00::/8" || o.OutboundIPRangeInclusionList != "10.0.0.0/8" {
				t.Errorf("osm-injector read the chart's arguments as %+v", o)
			}
		})
	}

	t.Run("the CIDR forms the schema accepts, osm-injector accepts", func(t *testing.T) {
		const cidrs = "0.0.0.0/0,192.168.0.0/16,::/0,2001:db8::1/128,64:ff9b::/96,1:2:3:4:5:6:7:8/64,fe80::/10"
		list := "['" + strings.ReplaceAll(cidrs, ",", "', '") + "']"
		c := injectorContainer(t, mustRender(t, testNamespace, set("osm.outboundIPRangeInclusionList="+list)))
		if got, _ := argValue(c.Args, "--outbound-ip-range-inclusion-list"); got != cidrs {
			t.Errorf("--outbound-ip-range-inclusion-list=%q, want %q", got, cidrs)
		}
		injectorAccepts(t, c.Args)
	})

	t.Run("one list alone", func(t *testing.T) {
		c := injectorContainer(t, mustRender(t, testNamespace, set("osm.outboundIPRangeExclusionList=['fd00::/8']")))
		if got, _ := argValue(c.Args, "--outbound-ip-range-exclusion-list"); got != "fd00::/8" {
			t.Errorf("--outbound-ip-range-exclusion-list=%q, want fd00::/8", got)
		}
		for _, flag := range []string{"--outbound-port-exclusion-list", "--inbound-port-exclusion-list", "--outbound-ip-range-inclusion-list"} {
			if _, ok := argValue(c.Args, flag); ok {
				t.Errorf("%s is passed although its list is empty", flag)
			}
		}
		injectorAccepts(t, c.Args)
	})
}
