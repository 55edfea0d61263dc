package certs

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestMergeBundle(t *testing.T) {
	old := mustCA(t, t0, 10*time.Hour)
	cur := mustCA(t, t0.Add(5*time.Hour), 10*time.Hour)
	next := mustCA(t, t0.Add(6*time.Hour), 10*time.Hour)
	leaf := mustServing(t, cur, t0.Add(5*time.Hour), time.Hour, []string{"x"}, nil)
	at := t0.Add(7 * time.Hour)
	list := func(kps ...keyPair) []*x509.Certificate {
		var out []*x509.Certificate
		for _, kp := range kps {
			out = append(out, kp.Cert)
		}
		return out
	}
	cases := map[string]struct {
		now      time.Time
		existing []*x509.Certificate
		required []*x509.Certificate
		want     []*x509.Certificate
	}{
		"a new CA is appended after the existing ones": {
			at, list(old, cur), list(cur, next), list(old, cur, next),
		},
		"existing order is kept even when required lists them otherwise": {
			at, list(next, cur), list(cur, next), list(next, cur),
		},
		"expired CAs are dropped": {
			t0.Add(11 * time.Hour), list(old, cur), list(cur), list(cur),
		},
		"duplicates are dropped": {
			at, list(cur, cur), list(cur), list(cur),
		},
		"a certificate that is not a CA is dropped": {
			at, list(leaf, cur), list(cur), list(cur),
		},
		"an empty bundle gets the required CAs": {
			at, nil, list(cur), list(cur),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mergeBundle(tc.now, tc.existing, tc.required...)
			if !sameCerts(got, tc.want) {
				t.Errorf("got %v, want %v", names(got), names(tc.want))
			}
		})
	}
}

func names(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}
