package webhook

import admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

// This file is the one home of "which webhook is ours", for the injector (its configuration
// controller, its trust and readiness checks) and the CLI (osm tracing check, osm install's
// look for an existing mesh, osm uninstall mesh) alike.

// IsInjectorConfiguration reports whether cfg is the injector's MutatingWebhookConfiguration:
// the one named ConfigurationName, the only name the chart and the injector ever write (the
// object is cluster-scoped, so one mesh per cluster owns it).
func IsInjectorConfiguration(cfg *admissionregistrationv1.MutatingWebhookConfiguration) bool {
	return cfg != nil && cfg.Name == ConfigurationName
}

// InjectorHook is the injector's webhook (WebhookName) in cfg, or nil when cfg is not the
// injector's configuration or carries no such webhook. The pointer is into cfg.
func InjectorHook(cfg *admissionregistrationv1.MutatingWebhookConfiguration) *admissionregistrationv1.MutatingWebhook {
	if !IsInjectorConfiguration(cfg) {
		return nil
	}
	for i := range cfg.Webhooks {
		if cfg.Webhooks[i].Name == WebhookName {
			return &cfg.Webhooks[i]
		}
	}
	return nil
}
