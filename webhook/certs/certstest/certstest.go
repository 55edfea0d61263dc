// Package certstest makes throw-away CAs and certificates for tests: of code that verifies
// them, and of the e2e clusters (their API servers', kubelets' and users' certificates). It
// is the one place tests mint certificates; webhook/certs issues the injector's own.
//
// Keys are ECDSA P-256, serial numbers random, and every certificate starts an hour before
// now, so that a lagging clock does not make a fresh one invalid.
package certstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"
)

// backdate is how long before now every certificate starts.
const backdate = time.Hour

// CA is a self-signed certificate authority.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// PEM is Cert PEM-encoded, as a caBundle or a kubeconfig holds it.
	PEM []byte
}

// Pair is a certificate a CA issued, with its key.
type Pair struct {
	Cert *x509.Certificate
	// PEM is the certificate PEM-encoded, as a Secret's tls.crt holds it.
	PEM []byte
	// KeyPEM is the key, PKCS #8 PEM-encoded.
	KeyPEM []byte
	// TLS is the certificate with its key, as a TLS server serves it.
	TLS *tls.Certificate
}

// MakeCA makes a CA named name, valid for validity.
func MakeCA(name string, validity time.Duration) (CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return CA{}, fmt.Errorf("certstest: when generating the key of CA %s: %w", name, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-backdate), NotAfter: now.Add(validity),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
	}
	cert, der, err := create(tmpl, tmpl, key, key)
	if err != nil {
		return CA{}, err
	}
	return CA{Cert: cert, Key: key, PEM: pemBlock("CERTIFICATE", der)}, nil
}

// Sign issues a certificate for a new key, with tmpl's subject, names, extended key usages
// and NotAfter (the CA's own NotAfter when zero).
func (ca CA) Sign(tmpl *x509.Certificate) (Pair, error) {
	name := tmpl.Subject.CommonName
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("certstest: when generating the key of %s: %w", name, err)
	}
	leaf := *tmpl
	leaf.NotBefore = time.Now().Add(-backdate)
	if leaf.NotAfter.IsZero() {
		leaf.NotAfter = ca.Cert.NotAfter
	}
	leaf.KeyUsage = x509.KeyUsageDigitalSignature
	cert, der, err := create(&leaf, ca.Cert, key, ca.Key)
	if err != nil {
		return Pair{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Pair{}, fmt.Errorf("certstest: when encoding the key of %s: %w", name, err)
	}
	return Pair{
		Cert: cert, PEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("PRIVATE KEY", keyDER),
		TLS: &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
	}, nil
}

// NewCA makes a CA named name, valid for a year, or fails the test.
func NewCA(t testing.TB, name string) CA {
	t.Helper()
	ca, err := MakeCA(name, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// Issue makes a serving certificate for dns and ips, valid until notAfter, or fails the test.
func (ca CA) Issue(t testing.TB, dns []string, ips []net.IP, notAfter time.Time) Pair {
	t.Helper()
	p, err := ca.Sign(&x509.Certificate{
		Subject: pkix.Name{CommonName: "osm-injector"}, NotAfter: notAfter, DNSNames: dns, IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// create gives tmpl a random serial number, signs it and parses it back.
func create(tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) (*x509.Certificate, []byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("certstest: when generating a serial number: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("certstest: when signing the certificate of %s: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certstest: when parsing the certificate of %s: %w", tmpl.Subject.CommonName, err)
	}
	return cert, der, nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
