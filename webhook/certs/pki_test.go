package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

func TestNewCA(t *testing.T) {
	ca := mustCA(t, t0, 10*time.Hour)
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("not a signing CA: IsCA=%v usage=%v", c.IsCA, c.KeyUsage)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if !c.NotAfter.Equal(t0.Add(10 * time.Hour)) {
		t.Errorf("NotAfter = %v", c.NotAfter)
	}
	if !c.NotBefore.Equal(t0.Add(-maxBackdate)) {
		t.Errorf("NotBefore = %v, want backdated by %v", c.NotBefore, maxBackdate)
	}
	key, ok := ca.Key.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", ca.Key)
	}
	other := mustCA(t, t0.Add(time.Second), 10*time.Hour)
	if other.Cert.Subject.CommonName == c.Subject.CommonName {
		t.Errorf("two CAs share the subject %q", c.Subject.CommonName)
	}
}

func TestIssueServing(t *testing.T) {
	ca := mustCA(t, t0, 100*time.Hour)
	names := []string{"osm-injector.osm-system.svc", "osm-injector.osm-system.svc.cluster.local"}
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	leaf := mustServing(t, ca, t0.Add(time.Hour), 30*time.Second, names, ips)

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, host := range append([]string{"127.0.0.1"}, names...) {
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{
			DNSName: host, Roots: roots, CurrentTime: t0.Add(time.Hour),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if !leaf.Cert.NotBefore.Equal(t0.Add(time.Hour - 3*time.Second)) {
		t.Errorf("NotBefore = %v, want a tenth of the validity back", leaf.Cert.NotBefore)
	}
	if leaf.Cert.IsCA {
		t.Error("serving certificate is a CA")
	}
	if leaf.Cert.Subject.CommonName != names[0] {
		t.Errorf("CommonName = %q", leaf.Cert.Subject.CommonName)
	}
}

func TestIssueServingNeverOutlivesItsCA(t *testing.T) {
	ca := mustCA(t, t0, 10*time.Hour)
	leaf := mustServing(t, ca, t0.Add(9*time.Hour), 5*time.Hour, []string{"a.b.svc"}, nil)
	if !leaf.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("NotAfter = %v, want the CA's %v", leaf.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

func TestSerialsDiffer(t *testing.T) {
	ca := mustCA(t, t0, 10*time.Hour)
	a := mustServing(t, ca, t0, time.Hour, []string{"a"}, nil)
	b := mustServing(t, ca, t0, time.Hour, []string{"a"}, nil)
	if a.Cert.SerialNumber.Cmp(b.Cert.SerialNumber) == 0 || a.Cert.SerialNumber.Sign() <= 0 {
		t.Errorf("serials %v and %v", a.Cert.SerialNumber, b.Cert.SerialNumber)
	}
}
