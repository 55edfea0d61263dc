package certs

import (
	"context"
	"crypto/tls"
)

// Provider supplies the webhook's serving certificate and the CA bundle clients must trust.
type Provider interface {
	// GetCertificate is used as tls.Config.GetCertificate; it always returns the current serving cert.
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// CABundle returns the PEM bundle the MutatingWebhookConfiguration must carry (may hold old+new CA during CA rotation).
	CABundle() []byte
	// Ready reports whether a certificate is loaded (for /readyz).
	Ready() error
	// Changed delivers a signal whenever the CA bundle changes (to re-sync the webhook configuration).
	Changed() <-chan struct{}
	// Start runs the provider until ctx ends (load/create the Secret, watch, rotate); implements manager.Runnable, NOT leader-elected (every replica serves).
	Start(ctx context.Context) error
}
