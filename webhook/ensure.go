package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var errWaitCancelled = errors.New("gave up waiting for a concurrent create of the same ConfigMap")

// configMapEnsurer makes sure a bootstrap ConfigMap exists: the informer cache first (a
// label-selected, metadata-only cache of the managed ConfigMaps), then the known-to-exist set,
// then one Create per name at a time; AlreadyExists is success.
type configMapEnsurer struct {
	reader client.Reader
	writer client.Writer
	known  *knownSet
	flight inflight
}

func newConfigMapEnsurer(reader client.Reader, writer client.Writer, knownTTL time.Duration) *configMapEnsurer {
	return &configMapEnsurer{reader: reader, writer: writer, known: newKnownSet(knownTTL, nil)}
}

// ensure reports whether it created cm.
func (e *configMapEnsurer) ensure(ctx context.Context, cm *corev1.ConfigMap) (created bool, err error) {
	key := cm.Namespace + "/" + cm.Name
	if e.known.has(key) {
		return false, nil
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	err = e.reader.Get(ctx, client.ObjectKeyFromObject(cm), meta)
	switch {
	case err == nil:
		return false, nil
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("when looking up ConfigMap %s in the cache: %w", key, err)
	}
	err = e.flight.do(ctx.Done(), key, func() error {
		if e.known.has(key) {
			return nil
		}
		err := e.writer.Create(ctx, cm.DeepCopy())
		switch {
		case err == nil:
			created = true
		case apierrors.IsAlreadyExists(err):
		default:
			return fmt.Errorf("when creating ConfigMap %s: %w", key, err)
		}
		e.known.add(key)
		return nil
	})
	return created, err
}
