package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// certificatesResource is cert-manager's Certificate resource, read with the dynamic client and
// decoded into cert-manager's own Go type.
var certificatesResource = cmapi.SchemeGroupVersion.WithResource("certificates")

// certManagerRef is the Certificate a webhook configuration names in
// cert-manager.io/inject-ca-from (certificate provider cert-manager), or ok=false.
func certManagerRef(hook *admissionregistrationv1.MutatingWebhookConfiguration) (namespace, name string, ok bool) {
	ref := hook.Annotations[cmapi.WantInjectAnnotation]
	if ref == "" {
		return "", "", false
	}
	namespace, name, found := strings.Cut(ref, "/")
	if !found || namespace == "" || name == "" {
		return "", ref, true
	}
	return namespace, name, true
}

// checkCertManagerCertificate checks the cert-manager Certificate of the webhook's serving
// certificate: it exists, its Ready condition is True and it is not about to expire. It also
// returns the Certificate's Secret (the serving certificate), "" when unknown.
func (k *checker) checkCertManagerCertificate(ctx context.Context, hook *admissionregistrationv1.MutatingWebhookConfiguration) (Result, string) {
	r := Result{Step: stepWebhook, Title: "webhook certificate (cert-manager)"}
	ns, name, _ := certManagerRef(hook)
	if ns == "" {
		r.Status = Fail
		r.Message = fmt.Sprintf("MutatingWebhookConfiguration %s has %s %q, which is not NAMESPACE/NAME", hook.Name,
			cmapi.WantInjectAnnotation, name)
		r.Hint = "reinstall the mesh: 'osm install --set osm.certificateProvider=cert-manager' writes it"
		return r, ""
	}
	u, err := k.c.Dynamic.Resource(certificatesResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case meta.IsNoMatchError(err) || (apierrors.IsNotFound(err) && isMissingResource(err)):
		r.Status = Fail
		r.Message = fmt.Sprintf("the webhook's certificate comes from cert-manager (Certificate %s/%s), but cert-manager's "+
			"Certificate API is not served: is cert-manager installed?", ns, name)
		r.Hint = "install cert-manager (https://cert-manager.io/docs/installation/), or switch back: " +
			"helm upgrade ... --set osm.certificateProvider=self"
		return r, ""
	case apierrors.IsNotFound(err):
		r.Status = Fail
		r.Message = fmt.Sprintf("Certificate %s/%s, named by the webhook configuration's %s, does not exist", ns, name,
			cmapi.WantInjectAnnotation)
		r.Hint = "the chart creates it with osm.certificateProvider=cert-manager: helm upgrade (or osm install) again"
		return r, ""
	case err != nil:
		r.Status, r.Message = Fail, fmt.Sprintf("cannot read Certificate %s/%s: %v", ns, name, err)
		return r, ""
	}
	var crt cmapi.Certificate
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &crt); err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("Certificate %s/%s does not decode: %v", ns, name, err)
		return r, ""
	}
	r.Status, r.Message, r.Hint = EvaluateCertificate(&crt, time.Now())
	return r, crt.Spec.SecretName
}

// isMissingResource tells a NotFound about the resource type (no such API) from one about
// the object, which names the object.
func isMissingResource(err error) bool {
	var status *apierrors.StatusError
	if !errors.As(err, &status) {
		return false
	}
	details := status.ErrStatus.Details
	return details == nil || details.Name == ""
}

// EvaluateCertificate reports a cert-manager Certificate's health at now: its Ready condition
// and the expiry of the certificate it issued.
func EvaluateCertificate(crt *cmapi.Certificate, now time.Time) (status Status, message, hint string) {
	ref := crt.Namespace + "/" + crt.Name
	describe := fmt.Sprintf("kubectl describe certificate -n %s %s; kubectl get certificaterequests -n %s", crt.Namespace, crt.Name, crt.Namespace)
	var ready *cmapi.CertificateCondition
	for i := range crt.Status.Conditions {
		if crt.Status.Conditions[i].Type == cmapi.CertificateConditionReady {
			ready = &crt.Status.Conditions[i]
		}
	}
	expiry := ""
	if na := crt.Status.NotAfter; na != nil {
		expiry = "expires " + na.UTC().Format(time.RFC3339)
		if rt := crt.Status.RenewalTime; rt != nil {
			expiry += ", renewal due " + rt.UTC().Format(time.RFC3339)
		}
	}
	switch {
	case ready == nil:
		return Fail, fmt.Sprintf("Certificate %s has not been issued yet (no Ready condition)", ref),
			"is cert-manager running? " + describe
	case ready.Status != cmmeta.ConditionTrue:
		msg := fmt.Sprintf("Certificate %s is not Ready (%s: %s)", ref, ready.Reason, ready.Message)
		if expiry != "" {
			msg += "; the last certificate " + expiry
		}
		return Fail, msg, describe
	case crt.Status.NotAfter == nil:
		return Warn, fmt.Sprintf("Certificate %s is Ready, but its status has no expiry (notAfter)", ref), describe
	}
	left := crt.Status.NotAfter.Sub(now)
	switch {
	case left <= 0:
		return Fail, fmt.Sprintf("Certificate %s is Ready, but its certificate expired at %s", ref,
			crt.Status.NotAfter.UTC().Format(time.RFC3339)), "is cert-manager running? " + describe
	case left < ExpiryWarning:
		return Warn, fmt.Sprintf("Certificate %s is Ready and %s: in %s, and cert-manager has not renewed it", ref, expiry,
			left.Round(time.Minute)), "is cert-manager running? " + describe
	}
	return Pass, fmt.Sprintf("Certificate %s is Ready; its certificate %s", ref, expiry), ""
}
