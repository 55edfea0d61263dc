package certs

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestRenewAt(t *testing.T) {
	ca := mustCA(t, t0, 1000*time.Hour)
	leaf := mustServing(t, ca, t0, 30*time.Second, []string{"x"}, nil)
	// Lifetime 33s (3s backdated): renewed when 11s are left, 19s after issuing.
	if got, want := renewAt(leaf.Cert, 1.0/3), t0.Add(19*time.Second); !got.Equal(want) {
		t.Errorf("renewAt = %v, want %v", got, want)
	}
}

func TestCheckServing(t *testing.T) {
	clock := newFakeClock()
	o := testOptions(t, clock)
	ca := mustCA(t, t0, o.CAValidity)
	otherCA := mustCA(t, t0.Add(time.Second), o.CAValidity)
	good := mustServing(t, ca, t0, o.CertValidity, o.DNSNames, o.IPAddresses)
	due := renewAt(good.Cert, o.RenewBefore)
	cases := map[string]struct {
		serving *keyPair
		now     time.Time
		want    string // "" for no problem
	}{
		"a fresh certificate is fine":              {&good, t0, ""},
		"just before the renewal point it is fine": {&good, due.Add(-time.Second), ""},
		"at the renewal point it is due":           {&good, due, "due for renewal"},
		"after expiry it is expired":               {&good, good.Cert.NotAfter, "expired"},
		"a missing certificate":                    {nil, t0, "missing"},
		"a certificate of another CA": {
			ptr(mustServing(t, otherCA, t0, o.CertValidity, o.DNSNames, o.IPAddresses)), t0, "not signed by the current CA",
		},
		"a certificate without the loopback IP": {
			ptr(mustServing(t, ca, t0, o.CertValidity, o.DNSNames, nil)), t0, "lacks 127.0.0.1",
		},
		"a certificate without a service name": {
			ptr(mustServing(t, ca, t0, o.CertValidity, o.DNSNames[:1], o.IPAddresses)), t0,
			"lacks osm-injector.osm-system.svc.cluster.local",
		},
		"a certificate issued in the future": {
			ptr(mustServing(t, ca, t0.Add(time.Hour), o.CertValidity, o.DNSNames, o.IPAddresses)), t0, "not valid before",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := checkServing(tc.serving, ca.Cert, tc.now, o)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkServing: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkServing = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestMissingNamesIgnoresCase(t *testing.T) {
	ca := mustCA(t, t0, time.Hour)
	leaf := mustServing(t, ca, t0, time.Hour, []string{"Osm-Injector.NS.svc"}, []net.IP{net.ParseIP("::1")})
	if got := missingNames(leaf.Cert, []string{"osm-injector.ns.svc"}, []net.IP{net.IPv6loopback}); len(got) != 0 {
		t.Errorf("missingNames = %v", got)
	}
}

func TestUsableCA(t *testing.T) {
	ca := mustCA(t, t0, time.Hour)
	leaf := mustServing(t, ca, t0, time.Hour, []string{"x"}, nil)
	cases := map[string]struct {
		kp   *keyPair
		now  time.Time
		want string
	}{
		"a valid CA":           {&ca, t0, ""},
		"no CA":                {nil, t0, "missing"},
		"an expired CA":        {&ca, t0.Add(time.Hour), "expired"},
		"a leaf is not a CA":   {&leaf, t0, "not a CA"},
		"a CA not yet started": {&ca, t0.Add(-time.Hour), "not valid before"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := usableCA(tc.kp, tc.now)
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("usableCA = %v, want %q", err, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
