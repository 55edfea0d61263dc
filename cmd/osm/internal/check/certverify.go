package check

import (
	"errors"
	"fmt"
	"time"

	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// ExpiryWarning is how long before its end a serving certificate is reported as expiring soon.
const ExpiryWarning = 7 * 24 * time.Hour

// VerifyServing checks that the serving certificate chain certPEM (leaf first) verifies
// against the CA bundle caPEM for host (a DNS name or an IP) at now, and that it does not
// expire within ExpiryWarning.
func VerifyServing(caPEM, certPEM []byte, host string, now time.Time) (Status, string) {
	chain, parseErr := certs.ParseCertificates(certPEM)
	leaf, err := certs.VerifyChain(caPEM, chain, host, now)
	switch { // the bundle's faults first: without one, nothing can be trusted
	case errors.Is(err, certs.ErrEmptyBundle):
		return Fail, "its caBundle is empty: the API server cannot trust the injector (is osm-injector running? it writes the bundle at start)"
	case errors.Is(err, certs.ErrNoPEMInBundle):
		return Fail, "its caBundle holds no PEM certificate"
	case parseErr != nil:
		return Fail, "the serving certificate does not parse: " + parseErr.Error()
	case err != nil:
		return Fail, err.Error()
	}
	left := leaf.NotAfter.Sub(now)
	if left < ExpiryWarning {
		return Warn, fmt.Sprintf("the serving certificate for %s expires in %s (%s); the injector should have renewed it",
			host, left.Round(time.Minute), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return Pass, fmt.Sprintf("the caBundle verifies the serving certificate for %s, valid until %s",
		host, leaf.NotAfter.UTC().Format(time.RFC3339))
}
