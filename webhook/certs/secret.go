package certs

import (
	"crypto/x509"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Keys of the Secret. tls.crt, tls.key and ca.crt follow the kubernetes.io/tls convention
// (ca.crt holds every CA to trust, as in cert-manager's Secrets); ca.key and next-ca.key are
// this package's own.
const (
	// KeyServingCert is the serving certificate (PEM).
	KeyServingCert = corev1.TLSCertKey
	// KeyServingKey is the serving certificate's private key (PEM).
	KeyServingKey = corev1.TLSPrivateKeyKey
	// KeyCABundle is the bundle of CA certificates clients must trust (PEM): the
	// MutatingWebhookConfiguration's caBundle.
	KeyCABundle = "ca.crt"
	// KeyCAKey is the private key of the CA that signs serving certificates; its certificate
	// is the one of the bundle with the matching public key.
	KeyCAKey = "ca.key"
	// KeyNextCAKey is, during a CA rotation, the private key of the CA that will sign serving
	// certificates once the bundle holding it has propagated.
	KeyNextCAKey = "next-ca.key"
	// AnnotationNextCAPublished is when the bundle holding the next CA was written (RFC 3339).
	AnnotationNextCAPublished = "tracing.openservicemesh.io/next-ca-published-at"
	// LabelManagedBy marks the Secret as this package's.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is LabelManagedBy's value.
	ManagedByValue = "osm-injector"
)

// material is what a Secret holds, decoded. A part that could not be decoded is nil and
// its reason is in problems.
type material struct {
	bundle        []*x509.Certificate
	signer        *keyPair
	next          *keyPair
	nextPublished time.Time
	serving       *keyPair
	problems      []string
}

// decodeSecret reads a Secret's material. It never fails: whatever is missing or broken is
// left nil and described in problems, for the planner to replace.
func decodeSecret(s *corev1.Secret) material {
	var m material
	if s == nil {
		return m
	}
	bundle, err := ParseCertificates(s.Data[KeyCABundle])
	if err != nil {
		m.problems = append(m.problems, fmt.Sprintf("%s: %v", KeyCABundle, err))
	}
	m.bundle = bundle
	m.signer = m.caKeyPair(s.Data, KeyCAKey)
	m.next = m.caKeyPair(s.Data, KeyNextCAKey)
	if v, ok := s.Annotations[AnnotationNextCAPublished]; ok && m.next != nil {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			m.nextPublished = t
		} else {
			m.problems = append(m.problems, fmt.Sprintf("annotation %s: %v", AnnotationNextCAPublished, err))
		}
	}
	m.serving = m.servingKeyPair(s.Data)
	return m
}

// caKeyPair decodes the CA key under name and finds its certificate in the bundle.
func (m *material) caKeyPair(data map[string][]byte, name string) *keyPair {
	raw, ok := data[name]
	if !ok {
		return nil
	}
	key, err := parseKey(raw)
	if err != nil {
		m.problems = append(m.problems, fmt.Sprintf("%s: %v", name, err))
		return nil
	}
	cert := findByKey(m.bundle, key)
	if cert == nil {
		m.problems = append(m.problems, fmt.Sprintf("%s: no certificate of %s has its public key", name, KeyCABundle))
		return nil
	}
	return &keyPair{Cert: cert, Key: key}
}

// servingKeyPair decodes the serving certificate (the first of tls.crt) and its key.
func (m *material) servingKeyPair(data map[string][]byte) *keyPair {
	certs, err := ParseCertificates(data[KeyServingCert])
	if err != nil {
		m.problems = append(m.problems, fmt.Sprintf("%s: %v", KeyServingCert, err))
		return nil
	}
	key, err := parseKey(data[KeyServingKey])
	if err != nil {
		m.problems = append(m.problems, fmt.Sprintf("%s: %v", KeyServingKey, err))
		return nil
	}
	if !sameKey(certs[0], key) {
		m.problems = append(m.problems, fmt.Sprintf("%s does not belong to %s", KeyServingKey, KeyServingCert))
		return nil
	}
	return &keyPair{Cert: certs[0], Key: key}
}

// applyTo writes the material into the Secret's data and annotations, leaving other keys,
// labels and annotations alone. The material must be complete (as plan returns it).
func (m material) applyTo(s *corev1.Secret) error {
	if m.signer == nil || m.serving == nil || len(m.bundle) == 0 {
		return fmt.Errorf("when encoding Secret %s/%s: incomplete material", s.Namespace, s.Name)
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[LabelManagedBy] = ManagedByValue
	s.Data[KeyCABundle] = encodeCerts(m.bundle...)
	s.Data[KeyServingCert] = encodeCerts(m.serving.Cert)
	var err error
	if s.Data[KeyServingKey], err = encodeKey(m.serving.Key); err != nil {
		return err
	}
	if s.Data[KeyCAKey], err = encodeKey(m.signer.Key); err != nil {
		return err
	}
	if m.next == nil {
		delete(s.Data, KeyNextCAKey)
		delete(s.Annotations, AnnotationNextCAPublished)
		return nil
	}
	if s.Data[KeyNextCAKey], err = encodeKey(m.next.Key); err != nil {
		return err
	}
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationNextCAPublished] = m.nextPublished.UTC().Format(time.RFC3339)
	return nil
}
