package framework

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/osm-tracing/osm-tracing/webhook/certs/certstest"
)

// certValidity is long enough for any test run and short enough to be obviously a test cert.
const certValidity = 24 * time.Hour

// CA is a self-signed certificate authority made for one cluster (certstest mints it and
// the certificates it signs).
type CA struct {
	certstest.CA
}

// NewCA makes a fresh certificate authority.
func NewCA(commonName string) (*CA, error) {
	ca, err := certstest.MakeCA(commonName, certValidity)
	if err != nil {
		return nil, err
	}
	return &CA{CA: ca}, nil
}

// KeyPair is a PEM-encoded certificate and private key.
type KeyPair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// NewServingCert signs a server certificate for the given IPs and DNS names.
func (ca *CA) NewServingCert(commonName string, ips []net.IP, dnsNames []string) (KeyPair, error) {
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
		DNSNames:    dnsNames,
	})
}

// NewClientCert signs a client certificate: Kubernetes takes the common name as the user's
// name and the organizations as their groups.
func (ca *CA) NewClientCert(commonName string, organizations ...string) (KeyPair, error) {
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: organizations},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

func (ca *CA) issue(tmpl *x509.Certificate) (KeyPair, error) {
	p, err := ca.Sign(tmpl)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{CertPEM: p.PEM, KeyPEM: p.KeyPEM}, nil
}

// WriteFiles writes the certificate and key to the given paths.
func (kp KeyPair) WriteFiles(certPath, keyPath string) error {
	if err := os.WriteFile(certPath, kp.CertPEM, 0o600); err != nil {
		return fmt.Errorf("when writing %s: %w", certPath, err)
	}
	if err := os.WriteFile(keyPath, kp.KeyPEM, 0o600); err != nil {
		return fmt.Errorf("when writing %s: %w", keyPath, err)
	}
	return nil
}

// writeServiceAccountKeys writes an ECDSA key pair (ES256) for signing service-account tokens.
func writeServiceAccountKeys(privatePath, publicPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("when generating the service-account key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("when encoding the service-account key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("when encoding the service-account public key: %w", err)
	}
	if err := os.WriteFile(privatePath, pemBlock("PRIVATE KEY", privDER), 0o600); err != nil {
		return fmt.Errorf("when writing %s: %w", privatePath, err)
	}
	if err := os.WriteFile(publicPath, pemBlock("PUBLIC KEY", pubDER), 0o600); err != nil {
		return fmt.Errorf("when writing %s: %w", publicPath, err)
	}
	return nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
