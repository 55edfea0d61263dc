package kube

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/osm-tracing/osm-tracing/webhook"
)

// InjectorWebhooks lists the MutatingWebhookConfigurations of osm injectors, as the injector
// itself tells them (webhook.IsInjectorConfiguration).
func InjectorWebhooks(ctx context.Context, cs kubernetes.Interface) ([]admissionregistrationv1.MutatingWebhookConfiguration, error) {
	list, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("when listing MutatingWebhookConfigurations: %w", err)
	}
	var out []admissionregistrationv1.MutatingWebhookConfiguration
	for _, w := range list.Items {
		if webhook.IsInjectorConfiguration(&w) {
			out = append(out, w)
		}
	}
	return out, nil
}

// WebhookControlPlane returns the control-plane namespace w belongs to, when it can tell: the
// namespace of the Service the injector's webhook (webhook.InjectorHook) calls. It is "" for
// a webhook that calls a URL (an injector outside the cluster) or a configuration that is not
// the injector's.
func WebhookControlPlane(w *admissionregistrationv1.MutatingWebhookConfiguration) string {
	if h := webhook.InjectorHook(w); h != nil && h.ClientConfig.Service != nil {
		return h.ClientConfig.Service.Namespace
	}
	return ""
}

// ControlPlaneWebhook picks the webhook configuration of the control plane in ns among
// hooks: the one that calls a Service of ns, else the only one whose control plane cannot be
// told (one that calls a URL). It returns nil when there is none.
func ControlPlaneWebhook(hooks []admissionregistrationv1.MutatingWebhookConfiguration, ns string) *admissionregistrationv1.MutatingWebhookConfiguration {
	var unknown []*admissionregistrationv1.MutatingWebhookConfiguration
	for i := range hooks {
		if !webhook.IsInjectorConfiguration(&hooks[i]) {
			continue
		}
		switch WebhookControlPlane(&hooks[i]) {
		case ns:
			return &hooks[i]
		case "":
			unknown = append(unknown, &hooks[i])
		}
	}
	if len(unknown) == 1 {
		return unknown[0]
	}
	return nil
}
