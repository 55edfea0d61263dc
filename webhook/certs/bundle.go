package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"slices"
	"time"
)

// mergeBundle is the CA bundle to publish: the CA certificates of existing that are still
// valid at now, in their order, followed by each of required not already there. Expired
// certificates, certificates that are not CAs and duplicates are dropped, so a bundle shrinks
// back to one CA once a rotated-out CA expires. Keeping the order stable means the published
// bytes change only when the set of CAs does.
func mergeBundle(now time.Time, existing []*x509.Certificate, required ...*x509.Certificate) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(existing)+len(required))
	add := func(c *x509.Certificate) {
		if c == nil || !c.IsCA || validAt(c, now) != nil || containsCert(out, c) {
			return
		}
		out = append(out, c)
	}
	for _, c := range existing {
		add(c)
	}
	for _, c := range required {
		add(c)
	}
	return out
}

// containsCert reports whether c (byte for byte) is in certs.
func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	return slices.ContainsFunc(certs, func(x *x509.Certificate) bool { return bytes.Equal(x.Raw, c.Raw) })
}

// sameCerts reports whether a and b hold the same certificates in the same order.
func sameCerts(a, b []*x509.Certificate) bool {
	return slices.EqualFunc(a, b, func(x, y *x509.Certificate) bool { return bytes.Equal(x.Raw, y.Raw) })
}

// findByKey is the certificate of certs whose public key is key's, or nil.
func findByKey(certs []*x509.Certificate, key crypto.Signer) *x509.Certificate {
	for _, c := range certs {
		if sameKey(c, key) {
			return c
		}
	}
	return nil
}
