package webhook

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestInjectorConfigurationAndHook(t *testing.T) {
	cfg := func(name string, hooks ...string) *admissionregistrationv1.MutatingWebhookConfiguration {
		c := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{"app": "osm-injector"}}}
		for _, h := range hooks {
			c.Webhooks = append(c.Webhooks, admissionregistrationv1.MutatingWebhook{Name: h})
		}
		return c
	}
	tests := map[string]struct {
		cfg      *admissionregistrationv1.MutatingWebhookConfiguration
		ours     bool
		wantHook bool
	}{
		"nil":                                 {},
		"ours, with our webhook second":       {cfg: cfg(ConfigurationName, "other.example.com", WebhookName), ours: true, wantHook: true},
		"ours, without our webhook":           {cfg: cfg(ConfigurationName, "other.example.com"), ours: true},
		"a name with our prefix is not ours":  {cfg: cfg(ConfigurationName+"-osm-system", WebhookName)},
		"our label under another name is not": {cfg: cfg("custom", WebhookName)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsInjectorConfiguration(tc.cfg); got != tc.ours {
				t.Errorf("IsInjectorConfiguration = %t, want %t", got, tc.ours)
			}
			h := InjectorHook(tc.cfg)
			if (h != nil) != tc.wantHook || (h != nil && h.Name != WebhookName) {
				t.Errorf("InjectorHook = %v, want one: %t", h, tc.wantHook)
			}
		})
	}
	// What Configuration renders is ours, and its one webhook is the one InjectorHook finds.
	rendered := render(t, ConfigOptions{ControlPlaneNamespace: "osm-system", FailurePolicy: "Fail", TimeoutSeconds: 10})
	if !IsInjectorConfiguration(rendered) || InjectorHook(rendered) != &rendered.Webhooks[0] {
		t.Error("the configuration the injector renders is not recognised as its own")
	}
}
