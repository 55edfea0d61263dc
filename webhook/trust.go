package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// CheckTrusted reports whether the API server can call this injector through the live
// configuration: it carries the injector's webhook, and that webhook's caBundle verifies the
// serving certificate cert (its chain, at the current time). The re-bootstrap controller
// heals workloads only then: a pod rolled while the API server cannot call the injector is
// admitted again without the sidecar under failurePolicy Ignore. It does not check the
// certificate's names against the service or URL: the certificate provider makes them.
func CheckTrusted(live *admissionregistrationv1.MutatingWebhookConfiguration, cert *tls.Certificate) error {
	if live == nil {
		return fmt.Errorf("there is no MutatingWebhookConfiguration %s: the API server sends no pod to the injector", ConfigurationName)
	}
	hook := injectorHook(live)
	if hook == nil {
		return fmt.Errorf("MutatingWebhookConfiguration %s has no webhook %s", ConfigurationName, WebhookName)
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return errors.New("the injector has no serving certificate yet")
	}
	chain := make([]*x509.Certificate, 0, len(cert.Certificate))
	for _, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("when reading the serving certificate: %w", err)
		}
		chain = append(chain, c)
	}
	if _, err := certs.VerifyChain(hook.ClientConfig.CABundle, chain, "", time.Now()); err != nil {
		return fmt.Errorf("MutatingWebhookConfiguration %s: %w (not written yet, or for another certificate)", ConfigurationName, err)
	}
	return nil
}
