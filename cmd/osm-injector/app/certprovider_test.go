package app

import (
	"strings"
	"testing"

	"github.com/go-logr/logr/testr"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
)

func TestCertificateProviderFlags(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string // "" for valid
	}{
		"the default is self":                      {nil, ""},
		"cert-manager with the Secret":             {[]string{"--certificate-provider=cert-manager", "--cert-secret-name=osm-injector-cert-manager-tls"}, ""},
		"cert-manager with the mounted Secret":     {[]string{"--certificate-provider=cert-manager", "--cert-dir=/etc/osm-injector/certs"}, ""},
		"an unknown provider":                      {[]string{"--certificate-provider=vault"}, `--certificate-provider: "vault" is not a certificate provider`},
		"cert-manager without a source":            {[]string{"--certificate-provider=cert-manager"}, "needs where cert-manager puts the certificate"},
		"cert-manager with both sources":           {[]string{"--certificate-provider=cert-manager", "--cert-dir=/x", "--cert-secret-name=y"}, "--cert-dir: give either"},
		"cert-manager with a bad Secret name":      {[]string{"--certificate-provider=cert-manager", "--cert-secret-name=Not_A_Name"}, "--cert-secret-name"},
		"cert-manager with a bad Certificate name": {[]string{"--certificate-provider=cert-manager", "--cert-dir=/x", "--cert-manager-certificate=-"}, "--cert-manager-certificate"},
		"self with a Secret name":                  {[]string{"--cert-secret-name=x"}, "--cert-secret-name: is only used with --certificate-provider=cert-manager"},
		"self with a certificate folder":           {[]string{"--certificate-provider=self", "--cert-dir=/x"}, "--cert-dir: is only used with"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := DefaultOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.BindFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCertManagerProviderIsChosen(t *testing.T) {
	o := DefaultOptions()
	o.CertProviderKind = CertProviderCertManager
	o.CertSecretName = "serving"
	// No request is made before the provider starts.
	p, err := o.certProvider(&rest.Config{Host: "https://127.0.0.1:1"}, testr.New(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.CABundle() != nil {
		t.Errorf("the cert-manager provider publishes a CA bundle; the cainjector owns it")
	}
	if err := p.Ready(); err == nil || !strings.Contains(err.Error(), "osm-system/serving") {
		t.Errorf("Ready() before Start = %v, want it to name the Secret osm-system/serving", err)
	}
}
