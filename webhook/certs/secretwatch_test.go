package certs

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func tlsSecret(name string, p pairPEM) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{KeyServingCert: p.cert, KeyServingKey: p.key, KeyCABundle: []byte("ignored")},
	}
}

func TestSecretProviderFollowsTheSecret(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	secrets := client.CoreV1().Secrets("osm-system")
	p, err := NewSecretProvider(client, "osm-system", "serving", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.WithLogger(testr.New(t))
	if p.CABundle() != nil {
		t.Error("CABundle() is not nil: the cainjector owns the caBundle")
	}
	startProvider(t, p.Start)
	waitUntil(t, "not ready before the Secret exists", notReady(p, "does not exist yet"))

	now := time.Now()
	first := newPairPEM(t, now, time.Hour)
	if _, err := secrets.Create(ctx, tlsSecret("serving", first), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first certificate", serves(p, first.serial))
	if err := p.Ready(); err != nil {
		t.Errorf("Ready() = %v once the Secret holds a valid pair", err)
	}

	// Another Secret of the namespace, and its deletion, change nothing.
	if _, err := secrets.Create(ctx, tlsSecret("other", newPairPEM(t, now, time.Hour)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := secrets.Delete(ctx, "other", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	renewed := newPairPEM(t, now, time.Hour)
	if _, err := secrets.Update(ctx, tlsSecret("serving", renewed), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the renewed certificate", serves(p, renewed.serial))
	if err := p.Ready(); err != nil {
		t.Errorf("Ready() = %v after the renewal (or after another Secret was deleted)", err)
	}

	if err := secrets.Delete(ctx, "serving", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "not ready once the Secret is deleted", notReady(p, "was deleted"))
	if err := serves(p, renewed.serial)(); err != nil {
		t.Errorf("after the deletion: %v (the last valid certificate must still be served)", err)
	}

	reissued := newPairPEM(t, now, time.Hour)
	if _, err := secrets.Create(ctx, tlsSecret("serving", reissued), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the re-issued certificate", serves(p, reissued.serial))
	if err := p.Ready(); err != nil {
		t.Errorf("Ready() = %v after the Secret was issued again", err)
	}

	// A Secret without a usable pair (cert-manager never writes one, a person might).
	bad := tlsSecret("serving", reissued)
	bad.Data[KeyServingKey] = nil
	if _, err := secrets.Update(ctx, bad, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "not ready on an empty key", notReady(p, "empty"))
}

func TestNewSecretProviderChecksItsArguments(t *testing.T) {
	if _, err := NewSecretProvider(nil, "ns", "name", nil); err == nil {
		t.Error("accepted a nil client")
	}
	if _, err := NewSecretProvider(fake.NewClientset(), "ns", "", nil); err == nil {
		t.Error("accepted an empty name")
	}
}
