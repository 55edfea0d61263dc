package certs

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// store writes the material into a fresh Secret and decodes it back, as a Secret round trip
// through the API server would.
func store(t *testing.T, m material) (*corev1.Secret, material) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: DefaultSecretName, Namespace: "osm-system"}}
	if err := m.applyTo(s); err != nil {
		t.Fatalf("applyTo: %v", err)
	}
	back := decodeSecret(s)
	if len(back.problems) > 0 {
		t.Fatalf("decodeSecret of a written Secret has problems: %v", back.problems)
	}
	return s, back
}

func TestSecretRoundTrip(t *testing.T) {
	o := testOptions(t, newFakeClock())
	signer := mustCA(t, t0, o.CAValidity)
	next := mustCA(t, t0.Add(time.Second), o.CAValidity)
	serving := mustServing(t, signer, t0, o.CertValidity, o.DNSNames, o.IPAddresses)
	m := material{
		bundle: []*x509.Certificate{signer.Cert, next.Cert}, signer: &signer, next: &next,
		nextPublished: t0.Add(time.Minute), serving: &serving,
	}
	s, back := store(t, m)
	if s.Labels[LabelManagedBy] != ManagedByValue {
		t.Errorf("labels = %v", s.Labels)
	}
	if !sameCerts(back.bundle, m.bundle) || !back.signer.Cert.Equal(signer.Cert) || !back.next.Cert.Equal(next.Cert) ||
		!back.serving.Cert.Equal(serving.Cert) || !back.nextPublished.Equal(m.nextPublished) {
		t.Errorf("round trip changed the material")
	}

	// Finishing the rotation removes the next CA's key and annotation.
	m.next, m.nextPublished = nil, time.Time{}
	if err := m.applyTo(s); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Data[KeyNextCAKey]; ok {
		t.Error("next-ca.key left behind")
	}
	if _, ok := s.Annotations[AnnotationNextCAPublished]; ok {
		t.Error("annotation left behind")
	}
}

func TestDecodeSecretProblems(t *testing.T) {
	o := testOptions(t, newFakeClock())
	ca := mustCA(t, t0, o.CAValidity)
	other := mustCA(t, t0.Add(time.Second), o.CAValidity)
	serving := mustServing(t, ca, t0, o.CertValidity, o.DNSNames, o.IPAddresses)
	good, _ := store(t, material{bundle: []*x509.Certificate{ca.Cert}, signer: &ca, serving: &serving})
	otherKey, err := encodeKey(other.Key)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(*corev1.Secret)
		want string
	}{
		"an empty Secret": {func(s *corev1.Secret) { s.Data = nil }, "ca.crt: no PEM certificate"},
		"a CA key of no bundled CA": {
			func(s *corev1.Secret) { s.Data[KeyCAKey] = otherKey }, "ca.key: no certificate of ca.crt",
		},
		"a serving key of another certificate": {
			func(s *corev1.Secret) { s.Data[KeyServingKey] = otherKey }, "tls.key does not belong to tls.crt",
		},
		"a garbage serving certificate": {
			func(s *corev1.Secret) { s.Data[KeyServingCert] = []byte("junk") }, "tls.crt: no PEM certificate",
		},
		"a garbage publication time": {
			func(s *corev1.Secret) {
				s.Data[KeyNextCAKey] = s.Data[KeyCAKey]
				s.Annotations = map[string]string{AnnotationNextCAPublished: "yesterday"}
			}, "annotation " + AnnotationNextCAPublished,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := good.DeepCopy()
			tc.edit(s)
			m := decodeSecret(s)
			if !strings.Contains(strings.Join(m.problems, "\n"), tc.want) {
				t.Errorf("problems = %q, want one containing %q", m.problems, tc.want)
			}
		})
	}
}
