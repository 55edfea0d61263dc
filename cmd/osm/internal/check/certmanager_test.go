package check

import (
	"context"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

func certificate(ready *cmapi.CertificateCondition, notAfter time.Time) *cmapi.Certificate {
	crt := &cmapi.Certificate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: "osm-injector"},
		Spec:       cmapi.CertificateSpec{SecretName: "osm-injector-cert-manager-tls"},
	}
	if ready != nil {
		crt.Status.Conditions = []cmapi.CertificateCondition{*ready}
	}
	if !notAfter.IsZero() {
		crt.Status.NotAfter = &metav1.Time{Time: notAfter}
		crt.Status.RenewalTime = &metav1.Time{Time: notAfter.Add(-30 * 24 * time.Hour)}
	}
	return crt
}

func TestEvaluateCertificate(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := &cmapi.CertificateCondition{Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionTrue, Reason: "Ready"}
	notReady := &cmapi.CertificateCondition{
		Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionFalse,
		Reason: "DoesNotExist", Message: "Issuing certificate as Secret does not exist",
	}
	cases := map[string]struct {
		crt    *cmapi.Certificate
		status Status
		msg    string
		hint   string
	}{
		"ready with months left passes and says when it expires": {
			certificate(ready, now.Add(60*24*time.Hour)), Pass, "is Ready; its certificate expires 2030-03-02T00:00:00Z, renewal due", "",
		},
		"not ready fails with cert-manager's reason": {
			certificate(notReady, now.Add(time.Hour)), Fail, "is not Ready (DoesNotExist: Issuing certificate as Secret does not exist)",
			"kubectl describe certificate -n osm-system osm-injector",
		},
		"never issued fails": {
			certificate(nil, time.Time{}), Fail, "has not been issued yet", "is cert-manager running?",
		},
		"ready but expiring within a week warns": {
			certificate(ready, now.Add(48*time.Hour)), Warn, "in 48h0m0s, and cert-manager has not renewed it", "is cert-manager running?",
		},
		"ready but expired fails": {
			certificate(ready, now.Add(-time.Minute)), Fail, "expired at 2029-12-31T23:59:00Z", "is cert-manager running?",
		},
		"ready without notAfter warns": {
			certificate(ready, time.Time{}), Warn, "has no expiry", "kubectl describe certificate",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			status, msg, hint := EvaluateCertificate(tc.crt, now)
			if status != tc.status || !strings.Contains(msg, tc.msg) || !strings.Contains(hint, tc.hint) {
				t.Errorf("EvaluateCertificate = %v, %q, hint %q; want %v containing %q, hint containing %q",
					status, msg, hint, tc.status, tc.msg, tc.hint)
			}
		})
	}
}

func TestCertManagerRef(t *testing.T) {
	hook := func(a map[string]string) *admissionregistrationv1.MutatingWebhookConfiguration {
		return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Annotations: a}}
	}
	if _, _, ok := certManagerRef(hook(nil)); ok {
		t.Error("a webhook without the annotation is taken for cert-manager's")
	}
	ns, name, ok := certManagerRef(hook(map[string]string{cmapi.WantInjectAnnotation: "osm-system/osm-injector"}))
	if !ok || ns != "osm-system" || name != "osm-injector" {
		t.Errorf("certManagerRef = %q, %q, %t", ns, name, ok)
	}
	if ns, _, ok := certManagerRef(hook(map[string]string{cmapi.WantInjectAnnotation: "no-slash"})); !ok || ns != "" {
		t.Errorf("a malformed annotation gives namespace %q, ok %t; want \"\", true", ns, ok)
	}
}

// TestCheckCertManagerCertificate reads the Certificate through the dynamic client, as the CLI
// does, and decodes it into cert-manager's type.
func TestCheckCertManagerCertificate(t *testing.T) {
	crt := certificate(&cmapi.CertificateCondition{Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionTrue},
		time.Now().Add(60*24*time.Hour))
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crt)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion(cmapi.SchemeGroupVersion.String())
	u.SetKind("Certificate")
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{certificatesResource: "CertificateList"}, u)
	k := &checker{c: &kube.Clients{Dynamic: dyn}, o: Options{ControlPlane: "osm-system"}}
	hook := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{
		Name: "osm-injector", Annotations: map[string]string{cmapi.WantInjectAnnotation: "osm-system/osm-injector"},
	}}
	r, secret := k.checkCertManagerCertificate(context.Background(), hook)
	if r.Status != Pass || secret != "osm-injector-cert-manager-tls" {
		t.Errorf("checkCertManagerCertificate = %+v, Secret %q; want PASS and the Certificate's Secret", r, secret)
	}

	hook.Annotations[cmapi.WantInjectAnnotation] = "osm-system/missing"
	r, secret = k.checkCertManagerCertificate(context.Background(), hook)
	if r.Status != Fail || secret != "" || !strings.Contains(r.Message, "osm-system/missing") {
		t.Errorf("for a missing Certificate: %+v, Secret %q; want FAIL naming it", r, secret)
	}
}
