package webhook

import (
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestInjectCAFromAnnotationIsCertManagers(t *testing.T) {
	if InjectCAFromAnnotation != cmapi.WantInjectAnnotation {
		t.Errorf("InjectCAFromAnnotation = %q, cert-manager's cainjector reads %q", InjectCAFromAnnotation, cmapi.WantInjectAnnotation)
	}
}

func TestConfigurationForCertManager(t *testing.T) {
	got := render(t, ConfigOptions{
		ControlPlaneNamespace: "osm-system", MeshName: "osm",
		FailurePolicy: admissionregistrationv1.Ignore, TimeoutSeconds: 10,
		InjectCAFrom: "osm-system/osm-injector", CABundle: []byte("LIVE"), ResourceVersion: "42",
	})
	if a := got.Annotations[InjectCAFromAnnotation]; a != "osm-system/osm-injector" {
		t.Errorf("annotation %s = %q, want osm-system/osm-injector", InjectCAFromAnnotation, a)
	}
	if got.ResourceVersion != "42" {
		t.Errorf("resourceVersion = %q, want the precondition 42", got.ResourceVersion)
	}
	if string(got.Webhooks[0].ClientConfig.CABundle) != "LIVE" {
		t.Errorf("caBundle = %q, want the one given", got.Webhooks[0].ClientConfig.CABundle)
	}

	self := render(t, ConfigOptions{ControlPlaneNamespace: "osm-system", FailurePolicy: admissionregistrationv1.Ignore, TimeoutSeconds: 10})
	if len(self.Annotations) != 0 || self.ResourceVersion != "" {
		t.Errorf("without InjectCAFrom and ResourceVersion: annotations %v, resourceVersion %q; want none",
			self.Annotations, self.ResourceVersion)
	}
}

func TestCABundleNotOurs(t *testing.T) {
	annotated := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{InjectCAFromAnnotation: "osm-system/osm-injector"}},
	}
	plain := &admissionregistrationv1.MutatingWebhookConfiguration{}
	cases := map[string]struct {
		bundle []byte
		live   *admissionregistrationv1.MutatingWebhookConfiguration
		ours   bool
	}{
		"the provider publishes a bundle, the object is not annotated":               {[]byte("PEM"), plain, true},
		"the provider publishes a bundle, there is no object yet":                    {[]byte("PEM"), nil, true},
		"the provider publishes no bundle (cert-manager)":                            {nil, plain, false},
		"the provider publishes no bundle, no object yet":                            {nil, nil, false},
		"a self-signed injector meets an object annotated for cert-manager":          {[]byte("PEM"), annotated, false},
		"a cert-manager injector meets an object annotated for cert-manager (usual)": {nil, annotated, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			why := caBundleNotOurs(tc.bundle, tc.live)
			if (why == "") != tc.ours {
				t.Errorf("caBundleNotOurs = %q; want ours=%t", why, tc.ours)
			}
		})
	}
}

func TestLiveCABundle(t *testing.T) {
	live := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: ConfigurationName}, Webhooks: []admissionregistrationv1.MutatingWebhook{
		{Name: "someone-else.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: []byte("OTHER")}},
		{Name: WebhookName, ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: []byte("OURS")}},
	}}
	if got := string(liveCABundle(live)); got != "OURS" {
		t.Errorf("liveCABundle = %q, want OURS", got)
	}
	if got := liveCABundle(&admissionregistrationv1.MutatingWebhookConfiguration{}); got != nil {
		t.Errorf("liveCABundle of an object without our webhook = %q, want nil", got)
	}
}
