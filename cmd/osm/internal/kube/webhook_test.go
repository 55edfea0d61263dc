package kube

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/webhook"
)

func hook(name, serviceNS, url string) admissionregistrationv1.MutatingWebhookConfiguration {
	cc := admissionregistrationv1.WebhookClientConfig{}
	if serviceNS != "" {
		cc.Service = &admissionregistrationv1.ServiceReference{Name: "osm-injector", Namespace: serviceNS}
	}
	if url != "" {
		cc.URL = &url
	}
	return admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: webhook.WebhookName, ClientConfig: cc}}}
}

func TestControlPlaneWebhook(t *testing.T) {
	tests := map[string]struct {
		hooks []admissionregistrationv1.MutatingWebhookConfiguration
		want  string
	}{
		"the chart's webhook calling the Service": {
			hooks: []admissionregistrationv1.MutatingWebhookConfiguration{hook("osm-injector", "osm-system", "")}, want: "osm-injector",
		},
		"a webhook of another control plane": {
			hooks: []admissionregistrationv1.MutatingWebhookConfiguration{hook("osm-injector", "other", "")},
		},
		"an injector outside the cluster": {
			hooks: []admissionregistrationv1.MutatingWebhookConfiguration{hook("osm-injector", "", "https://127.0.0.1:9443/mutate-v1-pod")}, want: "osm-injector",
		},
		// webhook.IsInjectorConfiguration, the injector's own rule: one name, the chart's.
		"other names are not the injector's": {
			hooks: []admissionregistrationv1.MutatingWebhookConfiguration{hook("osm-injector-other", "", "https://x"), hook("osm-injector-osm-system", "osm-system", "")},
		},
		"another configuration beside the injector's is ignored": {
			hooks: []admissionregistrationv1.MutatingWebhookConfiguration{hook("osm-injector", "", "https://x"), hook("custom", "", "https://y")},
			want:  "osm-injector",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ControlPlaneWebhook(tc.hooks, "osm-system")
			switch {
			case got == nil && tc.want != "":
				t.Errorf("got none, want %s", tc.want)
			case got != nil && got.Name != tc.want:
				t.Errorf("got %s, want %q", got.Name, tc.want)
			}
		})
	}
}
