package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// ErrEmptyBundle and ErrNoPEMInBundle are VerifyChain's errors for a CA bundle that cannot
// trust anything.
var (
	ErrEmptyBundle   = errors.New("the caBundle is empty")
	ErrNoPEMInBundle = errors.New("the caBundle holds no PEM certificate")
)

// VerifyChain checks that the serving chain (leaf first) verifies against caBundle (PEM; it
// may hold old and new CAs during a rotation) at now, for host when not empty (a DNS name or
// an IP), as the API server does before calling the webhook. It returns the leaf. The
// injector asks it before healing workloads; osm tracing check before reporting the webhook
// healthy.
func VerifyChain(caBundle []byte, chain []*x509.Certificate, host string, now time.Time) (*x509.Certificate, error) {
	if len(caBundle) == 0 {
		return nil, ErrEmptyBundle
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		return nil, ErrNoPEMInBundle
	}
	if len(chain) == 0 {
		return nil, errors.New("there is no serving certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		forHost := ""
		if host != "" {
			forHost = " for " + host
		}
		return nil, fmt.Errorf("the serving certificate does not verify against the caBundle%s: %w", forHost, err)
	}
	return chain[0], nil
}
