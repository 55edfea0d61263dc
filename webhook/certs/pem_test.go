package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

func TestPEMRoundTrip(t *testing.T) {
	a := mustCA(t, t0, time.Hour)
	b := mustCA(t, t0.Add(time.Second), time.Hour)
	certs, err := ParseCertificates(encodeCerts(a.Cert, b.Cert))
	if err != nil {
		t.Fatalf("ParseCertificates: %v", err)
	}
	if !sameCerts(certs, []*x509.Certificate{a.Cert, b.Cert}) {
		t.Error("certificates changed in the round trip")
	}
	keyPEM, err := encodeKey(a.Key)
	if err != nil {
		t.Fatalf("encodeKey: %v", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		t.Fatalf("parseKey: %v", err)
	}
	if !sameKey(a.Cert, key) || sameKey(b.Cert, key) {
		t.Error("sameKey does not match the key to its certificate only")
	}
}

func TestParseKeyFormats(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"SEC 1 EC key":                 pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}),
		"PKCS #1 RSA key":              pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}),
		"key after an unrelated block": append(pem.EncodeToMemory(&pem.Block{Type: "FOO", Bytes: []byte{1}}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parseKey(data); err != nil {
				t.Errorf("parseKey: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]func() error{
		"empty certificate data": func() error { _, err := ParseCertificates(nil); return err },
		"garbage certificate": func() error {
			_, err := ParseCertificates(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}))
			return err
		},
		"empty key data": func() error { _, err := parseKey([]byte("not pem")); return err },
		"garbage key": func() error {
			_, err := parseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}))
			return err
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if f() == nil {
				t.Error("no error")
			}
		})
	}
}
