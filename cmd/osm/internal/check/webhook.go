package check

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// InjectorDeployment is the injector's Deployment in the control-plane namespace.
const InjectorDeployment = "osm-injector"

// checkWebhook checks the injector's webhook: its configuration exists, its caBundle verifies
// the injector's serving certificate (from the injector's Secret) and an injector is ready.
func (k *checker) checkWebhook(ctx context.Context) []Result {
	r := Result{Step: stepWebhook, Title: "injector webhook"}
	hook, err := k.findWebhook(ctx)
	if err != nil {
		r.Status, r.Message = Fail, err.Error()
		return []Result{r}
	}
	injector := webhook.InjectorHook(hook)
	if injector == nil {
		r.Status = Fail
		r.Message = fmt.Sprintf("no MutatingWebhookConfiguration of the injector of namespace %s (looked for %s with webhook %s): new pods are not injected",
			k.o.ControlPlane, webhook.ConfigurationName, webhook.WebhookName)
		r.Hint = "is the mesh installed in this namespace? 'osm install', or --osm-namespace"
		return []Result{r}
	}
	wh := *injector
	host, external := webhookHost(wh.ClientConfig, k.o.ControlPlane)
	// Certificate provider self: the injector's own Secret. cert-manager (the configuration
	// names a Certificate in cert-manager.io/inject-ca-from): the Certificate's Secret, and
	// the Certificate's own health comes first (certmanager.go).
	secretName := certs.DefaultSecretName
	created := fmt.Sprintf("the injector creates it at start: kubectl logs -n %s deploy/%s", k.o.ControlPlane, InjectorDeployment)
	renewed := fmt.Sprintf("the injector renews its certificate and rewrites the caBundle; see kubectl logs -n %s deploy/%s",
		k.o.ControlPlane, InjectorDeployment)
	var out []Result
	if _, _, ok := certManagerRef(hook); ok {
		crt, name := k.checkCertManagerCertificate(ctx, hook)
		out = append(out, crt)
		if name == "" {
			return out
		}
		secretName = name
		created = "cert-manager issues it: kubectl describe certificate -n " + k.o.ControlPlane
		renewed = "cert-manager renews the certificate and its cainjector writes the caBundle (annotation " +
			"cert-manager.io/inject-ca-from); is the cainjector running?"
	}
	secret, err := k.c.Kube.CoreV1().Secrets(k.o.ControlPlane).Get(ctx, secretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		r.Status = Fail
		r.Message = fmt.Sprintf("MutatingWebhookConfiguration %s exists, but Secret %s/%s (the injector's certificate) does not",
			hook.Name, k.o.ControlPlane, secretName)
		r.Hint = created
		return append(out, r)
	}
	if err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("cannot read Secret %s/%s: %v", k.o.ControlPlane, secretName, err)
		return append(out, r)
	}
	status, msg := VerifyServing(wh.ClientConfig.CABundle, secret.Data[certs.KeyServingCert], host, time.Now())
	r.Status, r.Message = status, "MutatingWebhookConfiguration "+hook.Name+": "+msg
	if status != Pass {
		r.Hint = renewed
	}
	if external || status == Fail {
		return append(out, r)
	}
	ready, desc := k.injectorReady(ctx)
	if ready {
		r.Message += "; " + desc
	} else {
		r.Status = Fail
		r.Message += "; but " + desc
		policy := "Fail"
		if wh.FailurePolicy != nil {
			policy = string(*wh.FailurePolicy)
		}
		r.Hint = fmt.Sprintf("with failurePolicy %s, new pods of mesh namespaces are %s; kubectl describe deployment -n %s %s",
			policy, map[bool]string{true: "refused", false: "started without the sidecar"}[policy == "Fail"], k.o.ControlPlane, InjectorDeployment)
	}
	return append(out, r)
}

// findWebhook returns the webhook configuration of the control plane, or nil.
func (k *checker) findWebhook(ctx context.Context) (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	hooks, err := kube.InjectorWebhooks(ctx, k.c.Kube)
	if err != nil {
		return nil, err
	}
	return kube.ControlPlaneWebhook(hooks, k.o.ControlPlane), nil
}

// webhookHost is the name the API server checks the serving certificate against, and
// whether the webhook is an injector outside the cluster (a URL).
func webhookHost(cc admissionregistrationv1.WebhookClientConfig, controlPlane string) (string, bool) {
	if cc.URL != nil {
		if u, err := url.Parse(*cc.URL); err == nil {
			return strings.Trim(u.Hostname(), "[]"), true
		}
	}
	if cc.Service != nil {
		return cc.Service.Name + "." + cc.Service.Namespace + ".svc", false
	}
	return certs.DefaultServiceName + "." + controlPlane + ".svc", false
}

// injectorReady reports whether an injector replica is available.
func (k *checker) injectorReady(ctx context.Context) (bool, string) {
	d, err := k.c.Kube.AppsV1().Deployments(k.o.ControlPlane).Get(ctx, InjectorDeployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, fmt.Sprintf("Deployment %s/%s does not exist", k.o.ControlPlane, InjectorDeployment)
	}
	if err != nil {
		return false, fmt.Sprintf("cannot read Deployment %s/%s: %v", k.o.ControlPlane, InjectorDeployment, err)
	}
	if d.Status.AvailableReplicas == 0 {
		return false, fmt.Sprintf("no replica of Deployment %s/%s is available", k.o.ControlPlane, InjectorDeployment)
	}
	return true, fmt.Sprintf("%d injector replicas available", d.Status.AvailableReplicas)
}
