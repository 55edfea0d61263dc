package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// render turns the apply configuration into the typed object the API server would store.
func render(t *testing.T, o ConfigOptions) *admissionregistrationv1.MutatingWebhookConfiguration {
	t.Helper()
	ac, err := Configuration(o)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(ac)
	if err != nil {
		t.Fatal(err)
	}
	out := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConfigurationWithTheService(t *testing.T) {
	got := render(t, ConfigOptions{
		ControlPlaneNamespace: "osm-system", MeshName: "osm",
		FailurePolicy: admissionregistrationv1.Ignore, TimeoutSeconds: 10, CABundle: []byte("PEM"),
	})
	want := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: "osm-injector", Labels: map[string]string{
			"app.kubernetes.io/managed-by": "osm-injector", "app.kubernetes.io/instance": "osm",
		}},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "injector.openservicemesh.io",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				Service: &admissionregistrationv1.ServiceReference{
					Namespace: "osm-system", Name: "osm-injector", Path: ptr.To("/mutate-v1-pod"), Port: ptr.To[int32](443),
				},
				CABundle: []byte("PEM"),
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
					Scope: ptr.To(admissionregistrationv1.NamespacedScope),
				},
			}},
			NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"openservicemesh.io/sidecar-injection": "enabled"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn,
					Values: []string{"kube-system", "kube-public", "osm-system"},
				}},
			},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNoneOnDryRun),
			TimeoutSeconds:          ptr.To[int32](10),
			AdmissionReviewVersions: []string{"v1"},
			ReinvocationPolicy:      ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy),
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("configuration (-want +got):\n%s", diff)
	}
}

func TestConfigurationWithAURL(t *testing.T) {
	got := render(t, ConfigOptions{
		ControlPlaneNamespace: "mesh", URL: "https://127.0.0.1:34567",
		FailurePolicy: admissionregistrationv1.Fail, TimeoutSeconds: 5,
	})
	hook := got.Webhooks[0]
	if hook.ClientConfig.Service != nil || hook.ClientConfig.URL == nil || *hook.ClientConfig.URL != "https://127.0.0.1:34567/mutate-v1-pod" {
		t.Errorf("want the URL and no Service, got %+v", hook.ClientConfig)
	}
	if *hook.FailurePolicy != admissionregistrationv1.Fail || *hook.TimeoutSeconds != 5 {
		t.Errorf("flags not written: %v %v", *hook.FailurePolicy, *hook.TimeoutSeconds)
	}
	if vals := hook.NamespaceSelector.MatchExpressions[0].Values; !cmp.Equal(vals, []string{"kube-system", "kube-public", "mesh"}) {
		t.Errorf("excluded namespaces: %v", vals)
	}
}

func TestEndpointURL(t *testing.T) {
	cases := map[string]struct {
		in, want, err string
	}{
		"a base gets the path":                {in: "https://127.0.0.1:9443", want: "https://127.0.0.1:9443/mutate-v1-pod"},
		"a trailing slash is dropped":         {in: "https://injector.example.com/", want: "https://injector.example.com/mutate-v1-pod"},
		"a prefix path is kept":               {in: "https://h:1/osm", want: "https://h:1/osm/mutate-v1-pod"},
		"the full URL is taken as it is":      {in: "https://h:1/mutate-v1-pod", want: "https://h:1/mutate-v1-pod"},
		"http is refused":                     {in: "http://127.0.0.1:9443", err: "https"},
		"a query is refused":                  {in: "https://h/?a=b", err: "query"},
		"user information is refused":         {in: "https://someone@h/", err: "user"},
		"a URL without a host is refused":     {in: "https:///x", err: "host"},
		"something that is no URL is refused": {in: "::", err: "webhook URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := EndpointURL(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want an error about %q, got %v (%q)", tc.err, err, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
