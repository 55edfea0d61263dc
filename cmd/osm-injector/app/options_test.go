package app

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
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
		"health-probe-bind-address", "max-concurrent-rollouts", "envoy-image", "init-image", "envoy-log-level"} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag --%s is missing", name)
		}
	}
	if !strings.Contains(fs.Lookup("webhook-failure-policy").Usage, "Ignore") {
		t.Error("the failure-policy help must explain the default")
	}
}
