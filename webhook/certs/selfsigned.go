package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/client-go/kubernetes"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// SelfSigned is a Provider that keeps its own CA and serving certificate in a Secret shared
// by every replica. See the package documentation for how it rotates them.
type SelfSigned struct {
	client kubernetes.Interface
	opts   Options
	log    logr.Logger

	// changed has room for one signal: a consumer that is busy misses none, only duplicates.
	changed chan struct{}
	// kick asks the loop to look at the Secret again (an informer event).
	kick    chan struct{}
	started atomic.Bool

	mu       sync.RWMutex
	cert     *tls.Certificate
	bundle   []byte
	loadedRV string
	last     *corev1.Secret // the last Secret loaded, to recreate it from if it is deleted
}

var _ Provider = (*SelfSigned)(nil)

// NewSelfSigned makes a provider that keeps the webhook's CA and serving certificate in the
// Secret opts.Namespace/opts.SecretName. It needs get, list, watch, create and update on
// that Secret. Nothing is read or written before Start.
func NewSelfSigned(client kubernetes.Interface, opts Options) (*SelfSigned, error) {
	if client == nil {
		return nil, errors.New("certs: NewSelfSigned needs a client")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &SelfSigned{
		client:  client,
		opts:    o,
		log:     logf.Log.WithName("webhook-certs").WithValues("secret", o.Namespace+"/"+o.SecretName),
		changed: make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
	}, nil
}

// WithLogger sets the logger (before Start) and returns the provider.
func (s *SelfSigned) WithLogger(log logr.Logger) *SelfSigned {
	s.log = log
	return s
}

// GetCertificate returns the current serving certificate; use it as
// tls.Config.GetCertificate, so a rotated certificate is served without a restart.
func (s *SelfSigned) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cert == nil {
		return nil, errors.New("certs: no serving certificate loaded yet")
	}
	return s.cert, nil
}

// CABundle returns the PEM CA bundle clients must trust (two CAs during a CA rotation), or
// nil before the first load.
func (s *SelfSigned) CABundle() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return bytes.Clone(s.bundle)
}

// Ready reports an error until a serving certificate is loaded, and when the loaded one has
// expired.
func (s *SelfSigned) Ready() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cert == nil {
		return fmt.Errorf("certs: no serving certificate loaded yet from Secret %s/%s", s.opts.Namespace, s.opts.SecretName)
	}
	if err := validAt(s.cert.Leaf, s.opts.Clock.Now()); err != nil {
		return fmt.Errorf("certs: serving certificate serial %x %w", s.cert.Leaf.SerialNumber, err)
	}
	return nil
}

// Changed delivers a signal after the CA bundle changed (including the first load). It is
// meant for one consumer, which then reads CABundle.
func (s *SelfSigned) Changed() <-chan struct{} {
	return s.changed
}

// NeedLeaderElection is false: every replica serves the webhook, so every replica runs the
// provider (manager.LeaderElectionRunnable).
func (s *SelfSigned) NeedLeaderElection() bool {
	return false
}

// ServingCertificate is the parsed serving certificate currently served, or nil.
func (s *SelfSigned) ServingCertificate() *x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cert == nil {
		return nil
	}
	return s.cert.Leaf
}

// load makes the Secret's certificate the served one and its bundle the published one,
// unless an older version of the Secret than the loaded one is offered (an informer event
// arriving after the answer to our own update). A Secret whose key pair does not decode is
// ignored (the loop will replace it).
func (s *SelfSigned) load(secret *corev1.Secret) {
	pair, err := tls.X509KeyPair(secret.Data[KeyServingCert], secret.Data[KeyServingKey])
	if err != nil {
		s.log.V(1).Info("not loading the Secret's serving certificate", "resourceVersion", secret.ResourceVersion,
			"reason", err.Error())
		return
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			s.log.V(1).Info("not loading the Secret's serving certificate", "reason", err.Error())
			return
		}
	}
	bundle := secret.Data[KeyCABundle]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadedRV != "" {
		if cmp, err := resourceversion.CompareResourceVersion(secret.ResourceVersion, s.loadedRV); err == nil && cmp < 0 {
			return
		}
	}
	if s.cert == nil || !bytes.Equal(s.cert.Certificate[0], pair.Certificate[0]) {
		s.log.Info("serving certificate loaded", "serial", fmt.Sprintf("%x", pair.Leaf.SerialNumber),
			"notAfter", pair.Leaf.NotAfter, "resourceVersion", secret.ResourceVersion)
	}
	s.cert = &pair
	s.loadedRV = secret.ResourceVersion
	s.last = secret.DeepCopy()
	if len(bundle) > 0 && !bytes.Equal(bundle, s.bundle) {
		s.bundle = bytes.Clone(bundle)
		s.log.Info("CA bundle changed", "resourceVersion", secret.ResourceVersion)
		signal(s.changed)
	}
}

// lastSecret is a copy of the last Secret loaded, or nil.
func (s *SelfSigned) lastSecret() *corev1.Secret {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.last == nil {
		return nil
	}
	return s.last.DeepCopy()
}

// signal sends on a one-slot channel without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
