package check

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
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
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca testCA) issue(t *testing.T, dns []string, ips []net.IP, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "osm-injector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		DNSNames: dns, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestVerifyServing(t *testing.T) {
	ca, other := newTestCA(t, "osm-ca"), newTestCA(t, "other-ca")
	now := time.Now()
	year := now.Add(300 * 24 * time.Hour)
	dns := []string{"osm-injector.osm-system.svc"}
	good := ca.issue(t, dns, nil, year)
	tests := map[string]struct {
		bundle, cert []byte
		host         string
		status       Status
		msg          string
	}{
		"the bundle verifies the certificate": {bundle: ca.pem, cert: good, host: dns[0], status: Pass, msg: "valid until"},
		"a bundle with old and new CA":        {bundle: append(append([]byte{}, other.pem...), ca.pem...), cert: good, host: dns[0], status: Pass},
		"an empty bundle":                     {cert: good, host: dns[0], status: Fail, msg: "caBundle is empty"},
		"a bundle of garbage":                 {bundle: []byte("nope"), cert: good, host: dns[0], status: Fail, msg: "no PEM certificate"},
		"another CA's bundle":                 {bundle: other.pem, cert: good, host: dns[0], status: Fail, msg: "does not verify"},
		"the wrong host":                      {bundle: ca.pem, cert: good, host: "osm-injector.other.svc", status: Fail, msg: "does not verify"},
		"an IP of an outside injector": {
			bundle: ca.pem, cert: ca.issue(t, nil, []net.IP{net.ParseIP("127.0.0.1")}, year), host: "127.0.0.1", status: Pass,
		},
		"a certificate expiring soon": {
			bundle: ca.pem, cert: ca.issue(t, dns, nil, now.Add(48*time.Hour)), host: dns[0], status: Warn, msg: "expires in",
		},
		"an expired certificate": {
			bundle: ca.pem, cert: ca.issue(t, dns, nil, now.Add(-time.Minute)), host: dns[0], status: Fail, msg: "expired",
		},
		"no serving certificate": {bundle: ca.pem, host: dns[0], status: Fail, msg: "does not parse"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, msg := VerifyServing(tc.bundle, tc.cert, tc.host, now)
			if status != tc.status || !strings.Contains(msg, tc.msg) {
				t.Errorf("VerifyServing = %v %q; want %v with %q", status, msg, tc.status, tc.msg)
			}
		})
	}
}
