package manifests

import (
	"slices"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/spf13/pflag"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// certManagerObjects are the objects of the chart's own CA chain and serving certificate.
var certManagerObjects = []string{
	"Issuer/osm-injector-selfsigned",
	"Certificate/osm-injector-ca",
	"Issuer/osm-injector-ca",
	"Certificate/osm-injector",
}

// injectorAccepts fails unless osm-injector parses the chart's arguments and its options
// validate (the certificate provider flags go together).
func injectorAccepts(t *testing.T, args []string) {
	t.Helper()
	argsAccepted(t, args)
	o := app.DefaultOptions()
	fs := pflag.NewFlagSet("osm-injector", pflag.ContinueOnError)
	// The logging flags are the command's, not the options'.
	fs.ParseErrorsAllowlist.UnknownFlags = true
	o.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing the chart's arguments %q: %v", args, err)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("osm-injector does not validate the chart's arguments %q: %v", args, err)
	}
}

func TestChartCertManager(t *testing.T) {
	r := mustRender(t, testNamespace, set("osm.certificateProvider=cert-manager"))
	for _, key := range certManagerObjects {
		if !r.has(key) {
			t.Errorf("%s is not rendered; rendered: %v", key, r.keys())
		}
	}

	t.Run("the CA chain", func(t *testing.T) {
		var selfSigned, caIssuer cmapi.Issuer
		r.get("Issuer/osm-injector-selfsigned", &selfSigned)
		r.get("Issuer/osm-injector-ca", &caIssuer)
		if selfSigned.Spec.SelfSigned == nil || selfSigned.Namespace != testNamespace {
			t.Errorf("Issuer osm-injector-selfsigned = %+v, want a SelfSigned issuer in %s", selfSigned.Spec, testNamespace)
		}
		var ca cmapi.Certificate
		r.get("Certificate/osm-injector-ca", &ca)
		if !ca.Spec.IsCA || ca.Spec.IssuerRef.Name != "osm-injector-selfsigned" || ca.Spec.SecretName != "osm-injector-ca" {
			t.Errorf("Certificate osm-injector-ca = %+v, want a CA issued by osm-injector-selfsigned into Secret osm-injector-ca", ca.Spec)
		}
		if caIssuer.Spec.CA == nil || caIssuer.Spec.CA.SecretName != ca.Spec.SecretName {
			t.Errorf("Issuer osm-injector-ca = %+v, want a CA issuer on Secret %s", caIssuer.Spec, ca.Spec.SecretName)
		}
	})

	t.Run("the serving certificate", func(t *testing.T) {
		var crt cmapi.Certificate
		r.get("Certificate/osm-injector", &crt)
		if crt.Name != app.DefaultCertManagerCertificate {
			t.Errorf("the Certificate is %q, osm-injector's --cert-manager-certificate default is %q", crt.Name, app.DefaultCertManagerCertificate)
		}
		if want := certs.ServiceDNSNames(webhook.ServiceName, testNamespace); !slices.Equal(crt.Spec.DNSNames, want) {
			t.Errorf("dnsNames = %v, want the Service's %v", crt.Spec.DNSNames, want)
		}
		if len(crt.Spec.IPAddresses) != 0 {
			t.Errorf("ipAddresses = %v without osm.webhook.url", crt.Spec.IPAddresses)
		}
		if crt.Spec.SecretName != "osm-injector-cert-manager-tls" || crt.Spec.SecretName == certs.DefaultSecretName {
			t.Errorf("secretName = %q, want osm-injector-cert-manager-tls (not the self-signed provider's Secret)", crt.Spec.SecretName)
		}
		ref := crt.Spec.IssuerRef
		if ref.Name != "osm-injector-ca" || ref.Kind != "Issuer" || ref.Group != "cert-manager.io" {
			t.Errorf("issuerRef = %+v, want the chart's CA Issuer", ref)
		}
		if crt.Spec.Duration == nil || crt.Spec.Duration.Duration != 2160*time.Hour ||
			crt.Spec.RenewBefore == nil || crt.Spec.RenewBefore.Duration != 720*time.Hour {
			t.Errorf("duration, renewBefore = %v, %v; want 2160h, 720h", crt.Spec.Duration, crt.Spec.RenewBefore)
		}
		if !slices.Contains(crt.Spec.Usages, cmapi.UsageServerAuth) {
			t.Errorf("usages = %v, want server auth", crt.Spec.Usages)
		}
	})

	t.Run("the webhook configuration", func(t *testing.T) {
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		r.get("MutatingWebhookConfiguration/osm-injector", &mwc)
		opts := webhook.ConfigOptions{
			ControlPlaneNamespace: testNamespace, MeshName: "osm",
			FailurePolicy: admissionregistrationv1.Ignore, TimeoutSeconds: 10,
			InjectCAFrom: testNamespace + "/" + app.DefaultCertManagerCertificate,
		}
		if got := mwc.Annotations[cmapi.WantInjectAnnotation]; got != opts.InjectCAFrom {
			t.Errorf("annotation %s = %q, want %q", cmapi.WantInjectAnnotation, got, opts.InjectCAFrom)
		}
		if len(mwc.Webhooks[0].ClientConfig.CABundle) != 0 {
			t.Errorf("the chart renders a caBundle; cert-manager's cainjector owns it")
		}
		sameAsInjector(t, &mwc, opts)
		applied := renderApplied(t, opts)
		if applied.Annotations[webhook.InjectCAFromAnnotation] != mwc.Annotations[webhook.InjectCAFromAnnotation] {
			t.Errorf("osm-injector applies annotation %q, the chart renders %q",
				applied.Annotations[webhook.InjectCAFromAnnotation], mwc.Annotations[webhook.InjectCAFromAnnotation])
		}
	})

	t.Run("the injector", func(t *testing.T) {
		c := injectorContainer(t, r)
		injectorAccepts(t, c.Args)
		for flag, want := range map[string]string{
			"--certificate-provider":     "cert-manager",
			"--cert-secret-name":         "osm-injector-cert-manager-tls",
			"--cert-manager-certificate": "osm-injector",
		} {
			if got, _ := argValue(c.Args, flag); got != want {
				t.Errorf("arg %s = %q, want %q; args %q", flag, got, want, c.Args)
			}
		}
		if _, ok := argValue(c.Args, "--cert-dir"); ok {
			t.Errorf("--cert-dir is passed with osm.certManager.secretAccess=api")
		}
		var role rbacv1.Role
		r.get("Role/osm-injector", &role)
		for _, rule := range role.Rules {
			if slices.Contains(rule.Resources, "secrets") &&
				(slices.Contains(rule.Verbs, "create") || slices.Contains(rule.Verbs, "update")) {
				t.Errorf("with cert-manager the injector may still write Secrets: %+v", rule)
			}
		}
		if !strings.Contains(r.notes, "kubectl get certificate osm-injector -n osm-system") {
			t.Errorf("NOTES do not say how to check the Certificate:\n%s", r.notes)
		}
	})
}

func TestChartCertManagerOptions(t *testing.T) {
	t.Run("a ClusterIssuer of the user's, the Secret mounted, the webhook at a URL", func(t *testing.T) {
		r := mustRender(t, testNamespace, set("osm.certificateProvider=cert-manager",
			"osm.certManager.issuerRef.name=corp-ca", "osm.certManager.issuerRef.kind=ClusterIssuer",
			"osm.certManager.secretAccess=volume", "osm.certManager.duration=1h", "osm.certManager.renewBefore=30m",
			"osm.webhook.url=https://127.0.0.1:9443"))
		for _, key := range certManagerObjects[:3] {
			if r.has(key) {
				t.Errorf("%s is rendered although osm.certManager.issuerRef names an issuer", key)
			}
		}
		var crt cmapi.Certificate
		r.get("Certificate/osm-injector", &crt)
		if ref := crt.Spec.IssuerRef; ref.Name != "corp-ca" || ref.Kind != "ClusterIssuer" {
			t.Errorf("issuerRef = %+v, want ClusterIssuer corp-ca", ref)
		}
		if !slices.Equal(crt.Spec.IPAddresses, []string{"127.0.0.1"}) {
			t.Errorf("ipAddresses = %v, want the webhook URL's 127.0.0.1", crt.Spec.IPAddresses)
		}
		if crt.Spec.Duration.Duration != time.Hour || crt.Spec.RenewBefore.Duration != 30*time.Minute {
			t.Errorf("duration, renewBefore = %v, %v", crt.Spec.Duration, crt.Spec.RenewBefore)
		}
		var d appsv1.Deployment
		r.get("Deployment/osm-injector", &d)
		c := d.Spec.Template.Spec.Containers[0]
		injectorAccepts(t, c.Args)
		if got, _ := argValue(c.Args, "--cert-dir"); got != certs.DefaultCertDir {
			t.Errorf("--cert-dir = %q, want %s", got, certs.DefaultCertDir)
		}
		if _, ok := argValue(c.Args, "--cert-secret-name"); ok {
			t.Errorf("--cert-secret-name is passed with osm.certManager.secretAccess=volume")
		}
		mounted := false
		for _, m := range c.VolumeMounts {
			if m.MountPath == certs.DefaultCertDir && m.ReadOnly {
				for _, v := range d.Spec.Template.Spec.Volumes {
					if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == crt.Spec.SecretName {
						mounted = true
					}
				}
			}
		}
		if !mounted {
			t.Errorf("Secret %s is not mounted read-only at %s: mounts %+v", crt.Spec.SecretName, certs.DefaultCertDir, c.VolumeMounts)
		}
	})

	t.Run("a DNS name in the webhook URL", func(t *testing.T) {
		r := mustRender(t, testNamespace, set("osm.certificateProvider=cert-manager", "osm.webhook.url=https://injector.example.com:9443"))
		var crt cmapi.Certificate
		r.get("Certificate/osm-injector", &crt)
		if !slices.Contains(crt.Spec.DNSNames, "injector.example.com") || len(crt.Spec.IPAddresses) != 0 {
			t.Errorf("dnsNames %v, ipAddresses %v; want injector.example.com among the names", crt.Spec.DNSNames, crt.Spec.IPAddresses)
		}
	})

	t.Run("self renders no cert-manager object", func(t *testing.T) {
		r := mustRender(t, testNamespace, set("osm.certManager.issuerRef.name=ignored"))
		for _, key := range certManagerObjects {
			if r.has(key) {
				t.Errorf("%s is rendered with certificateProvider self", key)
			}
		}
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		r.get("MutatingWebhookConfiguration/osm-injector", &mwc)
		if _, ok := mwc.Annotations[cmapi.WantInjectAnnotation]; ok {
			t.Errorf("the webhook configuration is annotated %s with certificateProvider self", cmapi.WantInjectAnnotation)
		}
		c := injectorContainer(t, r)
		injectorAccepts(t, c.Args)
		if got, _ := argValue(c.Args, "--certificate-provider"); got != "self" {
			t.Errorf("--certificate-provider = %q, want self", got)
		}
	})

	for name, tc := range map[string]struct{ vals []string }{
		"an issuer kind cert-manager does not have": {[]string{"osm.certificateProvider=cert-manager", "osm.certManager.issuerRef.name=x", "osm.certManager.issuerRef.kind=Vault"}},
		"an unknown way to read the Secret":         {[]string{"osm.certificateProvider=cert-manager", "osm.certManager.secretAccess=nfs"}},
		"a duration that is not one":                {[]string{"osm.certificateProvider=cert-manager", "osm.certManager.duration=90d"}},
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if _, err := renderInstall(t, testNamespace, set(tc.vals...)); err == nil {
				t.Errorf("the chart rendered with %v", tc.vals)
			}
		})
	}
}

// renderApplied is the webhook configuration osm-injector applies for opts, decoded.
func renderApplied(t *testing.T, opts webhook.ConfigOptions) *admissionregistrationv1.MutatingWebhookConfiguration {
	t.Helper()
	applied, err := webhook.Configuration(opts)
	if err != nil {
		t.Fatal(err)
	}
	out := &admissionregistrationv1.MutatingWebhookConfiguration{}
	out.Annotations = applied.Annotations
	return out
}
