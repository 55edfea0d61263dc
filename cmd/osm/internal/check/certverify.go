package check

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// ExpiryWarning is how long before its end a serving certificate is reported as expiring soon.
const ExpiryWarning = 7 * 24 * time.Hour

// VerifyServing checks that the serving certificate chain certPEM (leaf first) verifies
// against the CA bundle caPEM for host (a DNS name or an IP) at now, and that it does not
// expire within ExpiryWarning.
func VerifyServing(caPEM, certPEM []byte, host string, now time.Time) (Status, string) {
	if len(caPEM) == 0 {
		return Fail, "its caBundle is empty: the API server cannot trust the injector (is osm-injector running? it writes the bundle at start)"
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return Fail, "its caBundle holds no PEM certificate"
	}
	chain, err := parseCertificates(certPEM)
	if err != nil {
		return Fail, "the serving certificate does not parse: " + err.Error()
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         pool,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return Fail, fmt.Sprintf("the serving certificate does not verify against the caBundle for %s: %v", host, err)
	}
	left := leaf.NotAfter.Sub(now)
	if left < ExpiryWarning {
		return Warn, fmt.Sprintf("the serving certificate for %s expires in %s (%s); the injector should have renewed it",
			host, left.Round(time.Minute), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return Pass, fmt.Sprintf("the caBundle verifies the serving certificate for %s, valid until %s",
		host, leaf.NotAfter.UTC().Format(time.RFC3339))
}

func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate in it")
	}
	return out, nil
}
