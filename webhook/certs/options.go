package certs

import (
	"errors"
	"fmt"
	"net"
	"time"

	"k8s.io/utils/clock"
)

// Defaults of Options.
const (
	// DefaultSecretName is the Secret holding the CA and the serving certificate.
	DefaultSecretName = "osm-injector-tls"
	// DefaultServiceName is the webhook's Service, whose DNS names the serving certificate
	// carries when Options.DNSNames is empty.
	DefaultServiceName = "osm-injector"
	// DefaultCAValidity is the lifetime of a generated CA.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// DefaultCertValidity is the lifetime of a serving certificate (flag --cert-validity).
	DefaultCertValidity = 365 * 24 * time.Hour
	// DefaultRenewBefore is the fraction of a certificate's lifetime left when it is renewed:
	// one third, so certificates are renewed at two thirds of their lifetime.
	DefaultRenewBefore = 1.0 / 3
	// DefaultBundlePropagation is how long a CA bundle holding a new CA is published before
	// serving certificates are signed by that CA (see the package documentation).
	DefaultBundlePropagation = 2 * time.Minute
	// DefaultResync bounds how long the provider sleeps between two checks of the Secret.
	DefaultResync = 10 * time.Minute
)

// Options configure a SelfSigned provider.
type Options struct {
	// Namespace of the Secret (the control-plane namespace). Required.
	Namespace string
	// SecretName is the Secret's name; default DefaultSecretName.
	SecretName string
	// DNSNames the serving certificate must carry; default ServiceDNSNames(DefaultServiceName,
	// Namespace).
	DNSNames []string
	// IPAddresses the serving certificate must carry (127.0.0.1 when --webhook-url points to
	// loopback).
	IPAddresses []net.IP
	// CAValidity is the lifetime of a generated CA; default DefaultCAValidity.
	CAValidity time.Duration
	// CertValidity is the lifetime of a serving certificate; default DefaultCertValidity.
	CertValidity time.Duration
	// RenewBefore is the fraction (strictly between 0 and 1) of a certificate's lifetime left
	// when it is renewed or, for the CA, rotated; default DefaultRenewBefore.
	RenewBefore float64
	// BundlePropagation is how long a bundle with a new CA is published before the serving
	// certificate switches to that CA; default DefaultBundlePropagation.
	BundlePropagation time.Duration
	// Resync bounds the time between two checks of the Secret; default DefaultResync.
	Resync time.Duration
	// Clock tells the time that expiry, renewal and rotation are checked against, and times
	// the loop's waits; default the system clock. Tests inject a fake one and step it.
	Clock clock.Clock
}

// ServiceDNSNames are the names a Service is reached by from inside the cluster:
// NAME.NAMESPACE.svc and NAME.NAMESPACE.svc.cluster.local.
func ServiceDNSNames(service, namespace string) []string {
	base := service + "." + namespace + ".svc"
	return []string{base, base + ".cluster.local"}
}

// withDefaults fills unset fields and checks the result.
func (o Options) withDefaults() (Options, error) {
	if o.Namespace == "" {
		return o, errors.New("certs: Options.Namespace is required")
	}
	if o.SecretName == "" {
		o.SecretName = DefaultSecretName
	}
	if len(o.DNSNames) == 0 {
		o.DNSNames = ServiceDNSNames(DefaultServiceName, o.Namespace)
	}
	if o.CAValidity == 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.CertValidity == 0 {
		o.CertValidity = DefaultCertValidity
	}
	if o.RenewBefore == 0 {
		o.RenewBefore = DefaultRenewBefore
	}
	if o.BundlePropagation == 0 {
		o.BundlePropagation = DefaultBundlePropagation
	}
	if o.Resync == 0 {
		o.Resync = DefaultResync
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	switch {
	case o.CertValidity < 0 || o.CAValidity < 0 || o.BundlePropagation < 0 || o.Resync < 0:
		return o, errors.New("certs: validities, BundlePropagation and Resync must be positive")
	case o.CAValidity < o.CertValidity:
		return o, fmt.Errorf("certs: CAValidity %v is shorter than CertValidity %v", o.CAValidity, o.CertValidity)
	case o.RenewBefore <= 0 || o.RenewBefore >= 1:
		return o, fmt.Errorf("certs: RenewBefore %v is not a fraction strictly between 0 and 1", o.RenewBefore)
	case time.Duration(float64(o.CAValidity)*o.RenewBefore) <= 2*o.BundlePropagation:
		return o, fmt.Errorf("certs: the CA is rotated %v before it expires, which leaves too little time "+
			"to publish the new CA for BundlePropagation %v", time.Duration(float64(o.CAValidity)*o.RenewBefore),
			o.BundlePropagation)
	}
	for _, ip := range o.IPAddresses {
		if ip == nil {
			return o, errors.New("certs: Options.IPAddresses holds an invalid address")
		}
	}
	return o, nil
}
