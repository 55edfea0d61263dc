package certs

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// renewAt is when a certificate is due for renewal: when the fraction renewBefore of its
// lifetime (NotBefore to NotAfter) is left.
func renewAt(cert *x509.Certificate, renewBefore float64) time.Time {
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	return cert.NotAfter.Add(-time.Duration(float64(lifetime) * renewBefore))
}

// validAt reports why a certificate is not within its validity period at now, or nil.
func validAt(cert *x509.Certificate, now time.Time) error {
	switch {
	case now.Before(cert.NotBefore):
		return fmt.Errorf("not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	case !now.Before(cert.NotAfter):
		return fmt.Errorf("expired at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// usableCA reports why kp cannot sign certificates at now, or nil.
func usableCA(kp *keyPair, now time.Time) error {
	switch {
	case kp == nil:
		return fmt.Errorf("missing")
	case !kp.Cert.IsCA || !kp.Cert.BasicConstraintsValid:
		return fmt.Errorf("%s is not a CA certificate", kp.Cert.Subject.CommonName)
	case kp.Cert.KeyUsage != 0 && kp.Cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return fmt.Errorf("%s may not sign certificates", kp.Cert.Subject.CommonName)
	}
	if err := validAt(kp.Cert, now); err != nil {
		return fmt.Errorf("%s %w", kp.Cert.Subject.CommonName, err)
	}
	return nil
}

// missingNames lists the DNS names and IP addresses the certificate does not carry.
func missingNames(cert *x509.Certificate, dnsNames []string, ips []net.IP) []string {
	var missing []string
	for _, name := range dnsNames {
		if !slices.ContainsFunc(cert.DNSNames, func(n string) bool { return strings.EqualFold(n, name) }) {
			missing = append(missing, name)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			missing = append(missing, ip.String())
		}
	}
	return missing
}

// checkServing reports why the serving certificate must be (re)issued at now, or nil: it is
// missing, not signed by signer, outside its validity, lacks a required name, is not a
// server certificate, or is due for renewal.
func checkServing(serving *keyPair, signer *x509.Certificate, now time.Time, o Options) error {
	if serving == nil {
		return fmt.Errorf("missing")
	}
	cert := serving.Cert
	if err := cert.CheckSignatureFrom(signer); err != nil {
		return fmt.Errorf("serial %x is not signed by the current CA %s", cert.SerialNumber, signer.Subject.CommonName)
	}
	if err := validAt(cert, now); err != nil {
		return fmt.Errorf("serial %x %w", cert.SerialNumber, err)
	}
	if len(cert.ExtKeyUsage) > 0 && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return fmt.Errorf("serial %x is not a server certificate", cert.SerialNumber)
	}
	if missing := missingNames(cert, o.DNSNames, o.IPAddresses); len(missing) > 0 {
		return fmt.Errorf("serial %x lacks %s", cert.SerialNumber, strings.Join(missing, ", "))
	}
	if at := renewAt(cert, o.RenewBefore); !now.Before(at) {
		return fmt.Errorf("serial %x was due for renewal at %s", cert.SerialNumber, at.UTC().Format(time.RFC3339))
	}
	return nil
}
