package kube

import (
	"context"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// InjectorWebhookPrefix starts the name of the injector's MutatingWebhookConfiguration: the
// chart names it osm-injector-<control-plane namespace>; an injector run with its defaults
// names it osm-injector.
const InjectorWebhookPrefix = "osm-injector"

// InjectorWebhookName is the name the chart gives the webhook configuration of the control
// plane in namespace ns.
func InjectorWebhookName(ns string) string {
	return InjectorWebhookPrefix + "-" + ns
}

// InjectorWebhooks lists the MutatingWebhookConfigurations of osm injectors: those named
// osm-injector or osm-injector-*, or labelled app=osm-injector.
func InjectorWebhooks(ctx context.Context, cs kubernetes.Interface) ([]admissionv1.MutatingWebhookConfiguration, error) {
	list, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("when listing MutatingWebhookConfigurations: %w", err)
	}
	var out []admissionv1.MutatingWebhookConfiguration
	for _, w := range list.Items {
		if IsInjectorWebhook(&w) {
			out = append(out, w)
		}
	}
	return out, nil
}

// IsInjectorWebhook reports whether w is an osm injector's webhook configuration.
func IsInjectorWebhook(w *admissionv1.MutatingWebhookConfiguration) bool {
	return w.Name == InjectorWebhookPrefix || strings.HasPrefix(w.Name, InjectorWebhookPrefix+"-") ||
		w.Labels["app"] == "osm-injector"
}

// WebhookControlPlane returns the control-plane namespace w belongs to, when it can tell: the
// namespace of the Service it calls, or the suffix of its name.
func WebhookControlPlane(w *admissionv1.MutatingWebhookConfiguration) string {
	for _, h := range w.Webhooks {
		if h.ClientConfig.Service != nil {
			return h.ClientConfig.Service.Namespace
		}
	}
	if ns, ok := strings.CutPrefix(w.Name, InjectorWebhookPrefix+"-"); ok {
		return ns
	}
	return ""
}
