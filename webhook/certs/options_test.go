package certs

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{Namespace: "mesh"}.withDefaults()
	if err != nil {
		t.Fatalf("withDefaults: %v", err)
	}
	if o.SecretName != "osm-injector-tls" {
		t.Errorf("SecretName = %q", o.SecretName)
	}
	if want := "osm-injector.mesh.svc,osm-injector.mesh.svc.cluster.local"; strings.Join(o.DNSNames, ",") != want {
		t.Errorf("DNSNames = %v, want %s", o.DNSNames, want)
	}
	if o.CAValidity != DefaultCAValidity || o.CertValidity != DefaultCertValidity || o.RenewBefore != DefaultRenewBefore ||
		o.BundlePropagation != DefaultBundlePropagation || o.Resync != DefaultResync || o.Clock == nil {
		t.Errorf("defaults not applied: %+v", o)
	}
}

func TestOptionsInvalid(t *testing.T) {
	cases := map[string]struct {
		opts Options
		want string
	}{
		"a namespace is required": {Options{}, "Namespace is required"},
		"the renewal fraction must be below one": {
			Options{Namespace: "n", RenewBefore: 1}, "RenewBefore",
		},
		"the renewal fraction must be positive": {
			Options{Namespace: "n", RenewBefore: -0.5}, "RenewBefore",
		},
		"the CA must outlive the serving certificate": {
			Options{Namespace: "n", CAValidity: time.Hour, CertValidity: 2 * time.Hour}, "shorter than CertValidity",
		},
		"the CA rotation must leave time to propagate the bundle": {
			Options{Namespace: "n", CAValidity: 3 * time.Minute, CertValidity: time.Minute}, "BundlePropagation",
		},
		"negative durations are refused": {
			Options{Namespace: "n", Resync: -time.Second}, "positive",
		},
		"an unparsed IP address is refused": {
			Options{Namespace: "n", IPAddresses: []net.IP{net.ParseIP("not-an-ip")}}, "invalid address",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.opts.withDefaults()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("withDefaults() error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
