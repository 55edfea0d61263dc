package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// This file is what FileProvider and SecretProvider share: the serving certificate of an
// outside issuer (cert-manager), which they only read.
//
// What they promise, whatever the source:
//   - A key pair is loaded only when tls.crt decodes, tls.key is its key and the certificate
//     is within its validity period; anything else leaves the last good pair in place.
//   - GetCertificate serves the last good pair while it is valid, even after its source went
//     away or turned bad: the certificate is still trusted, and refusing handshakes would fail
//     admissions for nothing. Ready says the source is bad, so the replica leaves the
//     Service's endpoints until the issuer writes a good pair again.
//   - CABundle is nil: the issuer's CA injector (cert-manager's cainjector) owns the webhook
//     configuration's caBundle, and the webhook configuration controller leaves it alone.
//   - Changed never fires: there is no bundle to follow.

// externalCert is the state of an outside issuer's serving certificate.
type externalCert struct {
	clock  clock.PassiveClock
	source string // what the pair is read from, for messages: "directory /x", "Secret ns/name"
	log    logr.Logger
	// never is Changed's channel; nothing is ever sent on it.
	never chan struct{}

	mu   sync.RWMutex
	cert *tls.Certificate
	// problem is why the source holds no usable pair right now (nil when it does).
	problem error
}

func newExternalCert(source string, clk clock.PassiveClock, log logr.Logger) externalCert {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return externalCert{
		clock:   clk,
		source:  source,
		log:     log,
		never:   make(chan struct{}),
		problem: fmt.Errorf("certs: no serving certificate loaded yet from %s", source),
	}
}

// decodePair checks a PEM certificate (chain) and key: they decode, match, and the leaf is
// valid at the current time.
func (e *externalCert) decodePair(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	if len(bytes.TrimSpace(certPEM)) == 0 || len(bytes.TrimSpace(keyPEM)) == 0 {
		return nil, fmt.Errorf("%s or %s is empty", KeyServingCert, KeyServingKey)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s and %s are not a key pair: %w", KeyServingCert, KeyServingKey, err)
	}
	return e.checkPair(&pair)
}

// checkPair checks that the leaf of a decoded pair parses and is valid at the current time.
// It returns the pair with its Leaf set, without modifying the one it is given.
func (e *externalCert) checkPair(given *tls.Certificate) (*tls.Certificate, error) {
	if given == nil || len(given.Certificate) == 0 {
		return nil, fmt.Errorf("%s holds no certificate", KeyServingCert)
	}
	pair := *given
	if pair.Leaf == nil {
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("%s does not parse: %w", KeyServingCert, err)
		}
		pair.Leaf = leaf
	}
	if err := validAt(pair.Leaf, e.clock.Now()); err != nil {
		return nil, fmt.Errorf("the certificate serial %x is %w", pair.Leaf.SerialNumber, err)
	}
	return &pair, nil
}

// offer loads a pair read from the source, or records why it cannot be loaded.
func (e *externalCert) offer(certPEM, keyPEM []byte) {
	pair, err := e.decodePair(certPEM, keyPEM)
	if err != nil {
		e.fail(err)
		return
	}
	e.load(pair)
}

// offerPair loads a pair decoded elsewhere (controller-runtime's certwatcher), or records
// why it cannot be loaded.
func (e *externalCert) offerPair(decoded *tls.Certificate) {
	pair, err := e.checkPair(decoded)
	if err != nil {
		e.fail(err)
		return
	}
	e.load(pair)
}

// load serves a checked pair and clears the source's problem.
func (e *externalCert) load(pair *tls.Certificate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fresh := e.cert == nil || !bytes.Equal(e.cert.Certificate[0], pair.Certificate[0])
	e.cert, e.problem = pair, nil
	if fresh {
		e.log.Info("serving certificate loaded", "source", e.source,
			"serial", fmt.Sprintf("%x", pair.Leaf.SerialNumber), "notAfter", pair.Leaf.NotAfter)
	}
}

// fail records that the source holds no usable pair; the last good pair stays served.
func (e *externalCert) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.problem == nil || e.problem.Error() != err.Error() {
		e.log.Info("the serving certificate's source is not usable; the injector is not ready until it is",
			"source", e.source, "reason", err.Error(), "stillServing", e.cert != nil)
	}
	e.problem = err
}

// GetCertificate returns the last good serving certificate while it is valid.
func (e *externalCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.cert == nil {
		return nil, fmt.Errorf("certs: no serving certificate loaded yet from %s", e.source)
	}
	if err := validAt(e.cert.Leaf, e.clock.Now()); err != nil {
		return nil, fmt.Errorf("certs: the serving certificate serial %x from %s %w", e.cert.Leaf.SerialNumber, e.source, err)
	}
	return e.cert, nil
}

// Ready reports an error until a valid pair is loaded, while the source holds no usable
// pair (missing, deleted, undecodable, expired), and once the loaded pair has expired.
func (e *externalCert) Ready() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.problem != nil {
		if e.cert == nil {
			return e.problem
		}
		return fmt.Errorf("certs: %s holds no usable serving certificate (%w); the previous one is still served", e.source, e.problem)
	}
	if err := validAt(e.cert.Leaf, e.clock.Now()); err != nil {
		return fmt.Errorf("certs: the serving certificate serial %x from %s %w", e.cert.Leaf.SerialNumber, e.source, err)
	}
	return nil
}

// CABundle is nil: the issuer's CA injector owns the webhook configuration's caBundle.
func (e *externalCert) CABundle() []byte { return nil }

// Changed never fires.
func (e *externalCert) Changed() <-chan struct{} { return e.never }

// NeedLeaderElection is false: every replica serves the webhook.
func (e *externalCert) NeedLeaderElection() bool { return false }

// ServingCertificate is the parsed certificate currently served, or nil.
func (e *externalCert) ServingCertificate() *x509.Certificate {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.cert == nil {
		return nil
	}
	return e.cert.Leaf
}

// errStartedTwice is what a second call of Start returns.
var errStartedTwice = errors.New("certs: Start called twice")
