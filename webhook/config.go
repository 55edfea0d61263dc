package webhook

import (
	"fmt"
	"net/url"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// ConfigOptions say how the MutatingWebhookConfiguration reaches the injector.
type ConfigOptions struct {
	// ControlPlaneNamespace holds the Service osm-injector; its pods are never injected.
	ControlPlaneNamespace string
	// MeshName is recorded as the app.kubernetes.io/instance label.
	MeshName string
	// URL, when set, is the injector's base URL (https://host:port) and replaces the Service.
	URL string
	// FailurePolicy and TimeoutSeconds are written as they are.
	FailurePolicy  admissionregistrationv1.FailurePolicyType
	TimeoutSeconds int32
	// CABundle is the PEM bundle the API server trusts for the injector.
	CABundle []byte
	// InjectCAFrom, when set to NAMESPACE/NAME of a cert-manager Certificate, annotates the
	// configuration InjectCAFromAnnotation: cert-manager's cainjector then writes caBundle
	// from that Certificate's CA (certificate provider cert-manager).
	InjectCAFrom string
	// ResourceVersion, when set, makes the apply conditional: it fails with a Conflict unless
	// the live object is at this version (see ConfigReconciler on leaving caBundle alone).
	ResourceVersion string
}

// InjectCAFromAnnotation asks cert-manager's cainjector to keep the object's caBundle equal to
// the CA of the named Certificate (cert-manager's cmapi.WantInjectAnnotation).
const InjectCAFromAnnotation = "cert-manager.io/inject-ca-from"

// Configuration renders the MutatingWebhookConfiguration osm-injector as a server-side apply
// configuration: one webhook injector.openservicemesh.io for CREATE of v1 pods in namespaces
// labelled openservicemesh.io/sidecar-injection=enabled, never in kube-system, kube-public or
// the control-plane namespace.
func Configuration(o ConfigOptions) (*admissionregistrationv1ac.MutatingWebhookConfigurationApplyConfiguration, error) {
	client := admissionregistrationv1ac.WebhookClientConfig()
	if o.URL != "" {
		u, err := EndpointURL(o.URL)
		if err != nil {
			return nil, err
		}
		client.WithURL(u)
	} else {
		client.WithService(admissionregistrationv1ac.ServiceReference().
			WithNamespace(o.ControlPlaneNamespace).
			WithName(ServiceName).
			WithPath(Path).
			WithPort(ServicePort))
	}
	if len(o.CABundle) > 0 {
		client.WithCABundle(o.CABundle...)
	}

	rule := admissionregistrationv1ac.RuleWithOperations().
		WithOperations(admissionregistrationv1.Create).
		WithAPIGroups("").
		WithAPIVersions("v1").
		WithResources("pods").
		WithScope(admissionregistrationv1.NamespacedScope)

	// The API server's side of inject.NamespaceInMesh, built from the same constants: the
	// mesh label with its one value, and none of inject.NeverInjectedNamespaces.
	// TestNamespaceSelectorMatchesNamespaceInMesh holds the two equal.
	selector := metav1ac.LabelSelector().
		WithMatchLabels(inject.MeshNamespaceLabels()).
		WithMatchExpressions(metav1ac.LabelSelectorRequirement().
			WithKey(corev1.LabelMetadataName).
			WithOperator(metav1.LabelSelectorOpNotIn).
			WithValues(inject.NeverInjectedNamespaces(o.ControlPlaneNamespace)...))

	hook := admissionregistrationv1ac.MutatingWebhook().
		WithName(WebhookName).
		WithClientConfig(client).
		WithRules(rule).
		WithNamespaceSelector(selector).
		WithFailurePolicy(o.FailurePolicy).
		WithTimeoutSeconds(o.TimeoutSeconds).
		WithSideEffects(admissionregistrationv1.SideEffectClassNoneOnDryRun).
		WithReinvocationPolicy(admissionregistrationv1.IfNeededReinvocationPolicy).
		WithMatchPolicy(admissionregistrationv1.Equivalent).
		WithAdmissionReviewVersions("v1")

	labels := map[string]string{bootstrap.ManagedByLabel: bootstrap.ManagedByValue}
	if o.MeshName != "" {
		labels["app.kubernetes.io/instance"] = o.MeshName
	}
	cfg := admissionregistrationv1ac.MutatingWebhookConfiguration(ConfigurationName).
		WithLabels(labels).
		WithWebhooks(hook)
	if o.InjectCAFrom != "" {
		cfg.WithAnnotations(map[string]string{InjectCAFromAnnotation: o.InjectCAFrom})
	}
	if o.ResourceVersion != "" {
		cfg.WithResourceVersion(o.ResourceVersion)
	}
	return cfg, nil
}

// EndpointURL checks a --webhook-url base (https, a host, no query, fragment or user) and
// returns it with Path appended (once).
func EndpointURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("webhook URL %q: %w", base, err)
	}
	switch {
	case u.Scheme != "https":
		return "", fmt.Errorf("webhook URL %q: the scheme must be https (the API server calls webhooks over TLS only)", base)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("webhook URL %q: a host is required, as in https://127.0.0.1:9443", base)
	case u.User != nil:
		return "", fmt.Errorf("webhook URL %q: user information is not allowed", base)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("webhook URL %q: a query is not allowed", base)
	case u.Fragment != "":
		return "", fmt.Errorf("webhook URL %q: a fragment is not allowed", base)
	}
	path := strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(path, Path) {
		path += Path
	}
	u.Path = path
	u.RawPath = ""
	return u.String(), nil
}
