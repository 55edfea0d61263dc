package kube

import (
	"context"
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// InjectorWebhookName is the injector's MutatingWebhookConfiguration (webhook.ConfigurationName;
// the chart creates it and the injector keeps it current). Names starting with
// "osm-injector-" are recognised too.
const InjectorWebhookName = "osm-injector"

// InjectorWebhooks lists the MutatingWebhookConfigurations of osm injectors: those named
// osm-injector or osm-injector-*, or labelled app=osm-injector.
func InjectorWebhooks(ctx context.Context, cs kubernetes.Interface) ([]admissionregistrationv1.MutatingWebhookConfiguration, error) {
	list, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("when listing MutatingWebhookConfigurations: %w", err)
	}
	var out []admissionregistrationv1.MutatingWebhookConfiguration
	for _, w := range list.Items {
		if IsInjectorWebhook(&w) {
			out = append(out, w)
		}
	}
	return out, nil
}

// IsInjectorWebhook reports whether w is an osm injector's webhook configuration.
func IsInjectorWebhook(w *admissionregistrationv1.MutatingWebhookConfiguration) bool {
	return w.Name == InjectorWebhookName || strings.HasPrefix(w.Name, InjectorWebhookName+"-") ||
		w.Labels["app"] == "osm-injector"
}

// WebhookControlPlane returns the control-plane namespace w belongs to, when it can tell: the
// namespace of the Service it calls, or the suffix of an osm-injector-<namespace> name. It is
// "" for a webhook that calls a URL (an injector outside the cluster).
func WebhookControlPlane(w *admissionregistrationv1.MutatingWebhookConfiguration) string {
	for _, h := range w.Webhooks {
		if h.ClientConfig.Service != nil {
			return h.ClientConfig.Service.Namespace
		}
	}
	if ns, ok := strings.CutPrefix(w.Name, InjectorWebhookName+"-"); ok {
		return ns
	}
	return ""
}

// ControlPlaneWebhook picks the webhook configuration of the control plane in ns among
// hooks: the one that calls a Service of ns, else the only one whose control plane cannot be
// told (one that calls a URL). It returns nil when there is none.
func ControlPlaneWebhook(hooks []admissionregistrationv1.MutatingWebhookConfiguration, ns string) *admissionregistrationv1.MutatingWebhookConfiguration {
	var unknown []*admissionregistrationv1.MutatingWebhookConfiguration
	for i := range hooks {
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
