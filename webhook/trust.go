package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	hook := InjectorHook(live)
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

// CheckServiceReady reports whether the API server can reach the injector through the
// webhook's Service: an EndpointSlice of that Service lists a ready endpoint. A webhook
// called by URL (an injector outside the cluster) has nothing to check. reader reads the
// EndpointSlices of the Service's namespace.
//
// Found on a real node: with the injector scaled from 0, the leader healed a workload the
// moment its webhook served and its caBundle verified, a second before its pod was Ready and
// in the Service's endpoints; the API server could not call the webhook, the healed
// workload's new pod was admitted without the sidecar (failure policy Ignore) and the heal,
// done once per generation, was spent.
func CheckServiceReady(ctx context.Context, reader client.Reader, live *admissionregistrationv1.MutatingWebhookConfiguration) error {
	hook := InjectorHook(live)
	if hook == nil || hook.ClientConfig.Service == nil {
		return nil
	}
	svc := hook.ClientConfig.Service
	slices := &discoveryv1.EndpointSliceList{}
	if err := reader.List(ctx, slices, client.InNamespace(svc.Namespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: svc.Name}); err != nil {
		return fmt.Errorf("when listing the EndpointSlices of the webhook's Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			// The API documents an unset ready as ready.
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				return nil
			}
		}
	}
	return fmt.Errorf("the webhook's Service %s/%s has no ready endpoint yet: the API server cannot reach the injector", svc.Namespace, svc.Name)
}
