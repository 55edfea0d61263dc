package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// maxBackdate bounds how far before its issuing time a certificate's NotBefore is set, to
// tolerate clocks that lag the issuer's.
const maxBackdate = 5 * time.Minute

// keyPair is a certificate and its private key.
type keyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// backdate is how far before now a certificate with the given validity starts: a tenth of
// the validity, at most maxBackdate.
func backdate(validity time.Duration) time.Duration {
	return min(validity/10, maxBackdate)
}

// newCA generates an ECDSA P-256 self-signed CA valid from now (backdated) for validity.
// Its common name carries the issuing time, so that two CAs in one bundle have distinct
// subjects.
func newCA(now time.Time, validity time.Duration) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("when generating a CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return keyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s-ca@%d", DefaultServiceName, now.Unix())},
		NotBefore:             now.Add(-backdate(validity)),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return keyPair{}, fmt.Errorf("when self-signing a CA: %w", err)
	}
	return keyPair{Cert: cert, Key: key}, nil
}

// issueServing generates an ECDSA P-256 key and a server certificate for it, signed by ca,
// valid from now (backdated) for validity but never beyond the CA's own expiry.
func issueServing(ca keyPair, now time.Time, validity time.Duration, dnsNames []string, ips []net.IP) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("when generating a serving key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return keyPair{}, err
	}
	cn := DefaultServiceName
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	notAfter := now.Add(validity)
	if ca.Cert.NotAfter.Before(notAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-backdate(validity)),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              append([]string(nil), dnsNames...),
		IPAddresses:           append([]net.IP(nil), ips...),
	}
	cert, err := sign(tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return keyPair{}, fmt.Errorf("when signing a serving certificate for %v %v: %w", dnsNames, ips, err)
	}
	return keyPair{Cert: cert, Key: key}, nil
}

// sign creates the certificate and parses it back.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// newSerial is a random positive 127-bit serial number.
func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("when drawing a certificate serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}
