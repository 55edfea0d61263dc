package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca testCA) serving(t *testing.T, notAfter time.Time) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "osm-injector.osm-system.svc"},
		DNSNames:  []string{"osm-injector.osm-system.svc"},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func liveConfig(bundle []byte, hook string) *admissionregistrationv1.MutatingWebhookConfiguration {
	c := &admissionregistrationv1.MutatingWebhookConfiguration{}
	c.Name = ConfigurationName
	c.Webhooks = []admissionregistrationv1.MutatingWebhook{{Name: hook, ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: bundle}}}
	return c
}

func TestCheckTrusted(t *testing.T) {
	ours, other := newTestCA(t, "ours"), newTestCA(t, "other")
	cert := ours.serving(t, time.Now().Add(time.Hour))
	rotating := append(append([]byte{}, other.pem...), ours.pem...) // old + new CA during a rotation
	cases := []struct {
		name string
		live *admissionregistrationv1.MutatingWebhookConfiguration
		cert *tls.Certificate
		want string // "" = trusted, else a part of the error
	}{
		{"our CA", liveConfig(ours.pem, WebhookName), cert, ""},
		{"a bundle of two CAs, ours among them", liveConfig(rotating, WebhookName), cert, ""},
		{"no configuration", nil, cert, "there is no MutatingWebhookConfiguration osm-injector"},
		{"another webhook only", liveConfig(ours.pem, "other.example.com"), cert, "has no webhook " + WebhookName},
		{"empty caBundle (cainjector not done yet)", liveConfig(nil, WebhookName), cert, "is empty"},
		{"not PEM", liveConfig([]byte("garbage"), WebhookName), cert, "holds no PEM certificate"},
		{"another CA", liveConfig(other.pem, WebhookName), cert, "does not (yet) trust"},
		{"expired serving certificate", liveConfig(ours.pem, WebhookName), ours.serving(t, time.Now().Add(-time.Hour)), "does not (yet) trust"},
		{"no serving certificate", liveConfig(ours.pem, WebhookName), nil, "no serving certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTrusted(tc.live, tc.cert)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want trusted, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
