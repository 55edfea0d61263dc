package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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
	var hook *admissionregistrationv1.MutatingWebhook
	for i := range live.Webhooks {
		if live.Webhooks[i].Name == WebhookName {
			hook = &live.Webhooks[i]
		}
	}
	if hook == nil {
		return fmt.Errorf("MutatingWebhookConfiguration %s has no webhook %s", ConfigurationName, WebhookName)
	}
	if len(hook.ClientConfig.CABundle) == 0 {
		return fmt.Errorf("the caBundle of MutatingWebhookConfiguration %s is empty (not written yet)", ConfigurationName)
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return errors.New("the injector has no serving certificate yet")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(hook.ClientConfig.CABundle) {
		return fmt.Errorf("the caBundle of MutatingWebhookConfiguration %s holds no PEM certificate", ConfigurationName)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("when reading the serving certificate: %w", err)
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("the caBundle of MutatingWebhookConfiguration %s does not (yet) trust the serving certificate: %w",
			ConfigurationName, err)
	}
	return nil
}
