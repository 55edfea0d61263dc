package certs

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// plan computes the material the Secret should hold at now, given what it holds (cur), and
// describes each change made; no change means the Secret is fine as it is. The steps, in
// order:
//
//  1. A usable signing CA: the current one; else the next one of an unfinished rotation;
//     else a new one (added to the bundle, whose still-valid CAs are kept).
//  2. CA rotation: once the signing CA reaches its renewal point, a next CA is generated and
//     added to the bundle; BundlePropagation after that bundle was published, the next CA
//     becomes the signing CA.
//  3. The bundle: expired CAs are dropped, the signing and next CAs are present.
//  4. The serving certificate: reissued by the signing CA when it is missing, not signed by
//     that CA, lacks a required name, or is due for renewal.
func plan(now time.Time, o Options, cur material) (material, []string, error) {
	m := cur
	m.problems = nil
	var changes []string
	note := func(format string, args ...any) { changes = append(changes, fmt.Sprintf(format, args...)) }

	// 1. The signing CA.
	if err := usableCA(m.signer, now); err != nil {
		if usableCA(m.next, now) == nil {
			note("signing CA unusable (%v): switched to the next CA %s", err, m.next.Cert.Subject.CommonName)
			m.signer, m.next, m.nextPublished = m.next, nil, time.Time{}
		} else {
			ca, genErr := newCA(now, o.CAValidity)
			if genErr != nil {
				return cur, nil, genErr
			}
			note("signing CA unusable (%v): generated CA %s", err, ca.Cert.Subject.CommonName)
			m.signer, m.next, m.nextPublished = &ca, nil, time.Time{}
		}
	}

	// 2. CA rotation.
	if m.next != nil {
		if err := usableCA(m.next, now); err != nil {
			note("next CA unusable (%v): dropped", err)
			m.next, m.nextPublished = nil, time.Time{}
		}
	}
	switch {
	case m.next != nil && (m.nextPublished.IsZero() || m.nextPublished.After(now.Add(o.BundlePropagation))):
		// Unknown or implausible publication time: publish again and wait from now.
		note("next CA %s: publication time unknown, waiting %v from now", m.next.Cert.Subject.CommonName, o.BundlePropagation)
		m.nextPublished = now
	case m.next != nil && !now.Before(m.nextPublished.Add(o.BundlePropagation)):
		note("next CA %s published at %s: now signing with it", m.next.Cert.Subject.CommonName,
			m.nextPublished.UTC().Format(time.RFC3339))
		m.signer, m.next, m.nextPublished = m.next, nil, time.Time{}
	case m.next == nil && !now.Before(renewAt(m.signer.Cert, o.RenewBefore)):
		ca, err := newCA(now, o.CAValidity)
		if err != nil {
			return cur, nil, err
		}
		note("CA %s due for rotation at %s: published next CA %s", m.signer.Cert.Subject.CommonName,
			renewAt(m.signer.Cert, o.RenewBefore).UTC().Format(time.RFC3339), ca.Cert.Subject.CommonName)
		m.next, m.nextPublished = &ca, now
	}

	// 3. The bundle.
	required := []*keyPair{m.signer}
	if m.next != nil {
		required = append(required, m.next)
	}
	bundle := mergeBundle(now, m.bundle, certsOf(required)...)
	if !sameCerts(bundle, m.bundle) {
		note("CA bundle now holds %d CA(s)", len(bundle))
		m.bundle = bundle
	}

	// 4. The serving certificate.
	if err := checkServing(m.serving, m.signer.Cert, now, o); err != nil {
		dnsNames, ips := servingNames(m.serving, m.signer, now, o)
		leaf, issueErr := issueServing(*m.signer, now, o.CertValidity, dnsNames, ips)
		if issueErr != nil {
			return cur, nil, issueErr
		}
		note("serving certificate %v: issued serial %x valid until %s", err, leaf.Cert.SerialNumber,
			leaf.Cert.NotAfter.UTC().Format(time.RFC3339))
		m.serving = &leaf
	}
	return m, changes, nil
}

// servingNames are the names a new serving certificate carries: the required ones, plus,
// when the current certificate is only being reissued because it lacks some (it is signed by
// the signing CA and not due for renewal), the names it already has. Two replicas that
// disagree on the names (during an upgrade that changes them) then converge on the union
// instead of replacing each other's certificate in turn; renewal drops names no replica
// requires any more.
func servingNames(serving, signer *keyPair, now time.Time, o Options) ([]string, []net.IP) {
	dnsNames := slices.Clone(o.DNSNames)
	ips := slices.Clone(o.IPAddresses)
	if serving == nil || serving.Cert.CheckSignatureFrom(signer.Cert) != nil || validAt(serving.Cert, now) != nil ||
		!now.Before(renewAt(serving.Cert, o.RenewBefore)) {
		return dnsNames, ips
	}
	for _, n := range serving.Cert.DNSNames {
		if !slices.ContainsFunc(dnsNames, func(d string) bool { return strings.EqualFold(d, n) }) {
			dnsNames = append(dnsNames, n)
		}
	}
	for _, ip := range serving.Cert.IPAddresses {
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	return dnsNames, ips
}

// certsOf lists the certificates of the key pairs.
func certsOf(kps []*keyPair) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(kps))
	for _, kp := range kps {
		out = append(out, kp.Cert)
	}
	return out
}

// nextCheck is when plan may next have something to do for material m (as plan returned
// it): the serving certificate's renewal point, the CA's renewal point or the end of the
// next CA's propagation wait, and the earliest expiry in the bundle.
func nextCheck(o Options, m material) time.Time {
	var at time.Time
	earliest := func(t time.Time) {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	if m.serving != nil {
		earliest(renewAt(m.serving.Cert, o.RenewBefore))
	}
	if m.signer != nil {
		earliest(m.signer.Cert.NotAfter)
		if m.next == nil {
			earliest(renewAt(m.signer.Cert, o.RenewBefore))
		}
	}
	if m.next != nil {
		earliest(m.nextPublished.Add(o.BundlePropagation))
	}
	for _, c := range m.bundle {
		earliest(c.NotAfter)
	}
	return at
}
