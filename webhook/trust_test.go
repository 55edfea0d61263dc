package webhook

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/osm-tracing/osm-tracing/webhook/certs/certstest"
)

func liveConfig(bundle []byte, hook string) *admissionregistrationv1.MutatingWebhookConfiguration {
	c := &admissionregistrationv1.MutatingWebhookConfiguration{}
	c.Name = ConfigurationName
	c.Webhooks = []admissionregistrationv1.MutatingWebhook{{Name: hook, ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: bundle}}}
	return c
}

func TestCheckTrusted(t *testing.T) {
	ours, other := certstest.NewCA(t, "ours"), certstest.NewCA(t, "other")
	dns := []string{"osm-injector.osm-system.svc"}
	cert := ours.Issue(t, dns, nil, time.Now().Add(time.Hour)).TLS
	rotating := append(append([]byte{}, other.PEM...), ours.PEM...) // old + new CA during a rotation
	cases := []struct {
		name string
		live *admissionregistrationv1.MutatingWebhookConfiguration
		cert *tls.Certificate
		want string // "" = trusted, else a part of the error
	}{
		{"our CA", liveConfig(ours.PEM, WebhookName), cert, ""},
		{"a bundle of two CAs, ours among them", liveConfig(rotating, WebhookName), cert, ""},
		{"no configuration", nil, cert, "there is no MutatingWebhookConfiguration osm-injector"},
		{"another webhook only", liveConfig(ours.PEM, "other.example.com"), cert, "has no webhook " + WebhookName},
		{"empty caBundle (cainjector not done yet)", liveConfig(nil, WebhookName), cert, "caBundle is empty"},
		{"not PEM", liveConfig([]byte("garbage"), WebhookName), cert, "holds no PEM certificate"},
		{"another CA", liveConfig(other.PEM, WebhookName), cert, "does not verify"},
		{"expired serving certificate", liveConfig(ours.PEM, WebhookName), ours.Issue(t, dns, nil, time.Now().Add(-time.Minute)).TLS, "does not verify"},
		{"no serving certificate", liveConfig(ours.PEM, WebhookName), nil, "no serving certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTrusted(tc.live, tc.cert)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want trusted, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
