package certs

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxSyncAttempts bounds how often one sync re-reads the Secret after losing a race to
// another replica.
const maxSyncAttempts = 5

// sync reads the Secret, makes it hold what plan says it should, and loads the result. Writes
// are optimistic: Create fails with AlreadyExists and Update (carrying the resourceVersion
// read) fails with Conflict when another replica wrote first; the Secret is then read again
// and, usually, found fine as the other replica left it. It returns the material loaded.
func (s *SelfSigned) sync(ctx context.Context) (material, error) {
	secrets := s.client.CoreV1().Secrets(s.opts.Namespace)
	for range maxSyncAttempts {
		secret, err := secrets.Get(ctx, s.opts.SecretName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			m, retry, err := s.create(ctx)
			if retry {
				continue
			}
			return m, err
		}
		if err != nil {
			return material{}, fmt.Errorf("when reading Secret %s/%s: %w", s.opts.Namespace, s.opts.SecretName, err)
		}
		cur := decodeSecret(secret)
		m, changes, err := plan(s.opts.Clock.Now(), s.opts, cur)
		if err != nil {
			return material{}, fmt.Errorf("when planning Secret %s/%s: %w", s.opts.Namespace, s.opts.SecretName, err)
		}
		if len(changes) == 0 {
			s.load(secret)
			return m, nil
		}
		updated := secret.DeepCopy()
		if err := m.applyTo(updated); err != nil {
			return material{}, err
		}
		result, err := secrets.Update(ctx, updated, metav1.UpdateOptions{FieldManager: ManagedByValue})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			s.log.V(1).Info("another writer changed the Secret first; reading it again", "reason", err.Error())
			continue
		}
		if err != nil {
			return material{}, fmt.Errorf("when updating Secret %s/%s (%s): %w", s.opts.Namespace, s.opts.SecretName,
				strings.Join(changes, "; "), err)
		}
		s.log.Info("Secret updated", "changes", changes, "problems", cur.problems, "resourceVersion", result.ResourceVersion)
		s.load(result)
		return m, nil
	}
	return material{}, fmt.Errorf("when syncing Secret %s/%s: still racing other writers after %d attempts",
		s.opts.Namespace, s.opts.SecretName, maxSyncAttempts)
}

// create makes the missing Secret. Its material starts from the last Secret this replica
// loaded, if any, so that deleting the Secret does not change the CA. retry is true when
// another replica created it first.
func (s *SelfSigned) create(ctx context.Context) (m material, retry bool, err error) {
	m, changes, err := plan(s.opts.Clock.Now(), s.opts, decodeSecret(s.lastSecret()))
	if err != nil {
		return material{}, false, fmt.Errorf("when planning Secret %s/%s: %w", s.opts.Namespace, s.opts.SecretName, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.opts.SecretName, Namespace: s.opts.Namespace},
		Type:       corev1.SecretTypeTLS,
	}
	if err := m.applyTo(secret); err != nil {
		return material{}, false, err
	}
	result, err := s.client.CoreV1().Secrets(s.opts.Namespace).Create(ctx, secret,
		metav1.CreateOptions{FieldManager: ManagedByValue})
	if apierrors.IsAlreadyExists(err) {
		s.log.V(1).Info("another replica created the Secret first; reading it")
		return material{}, true, nil
	}
	if err != nil {
		return material{}, false, fmt.Errorf("when creating Secret %s/%s: %w", s.opts.Namespace, s.opts.SecretName, err)
	}
	s.log.Info("Secret created", "changes", changes, "resourceVersion", result.ResourceVersion)
	s.load(result)
	return m, false, nil
}
