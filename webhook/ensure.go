package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"
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
	// flight lets one admission per ConfigMap create it while the concurrent ones for the
	// same name wait for its result.
	flight singleflight.Group
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
	// The Create runs once for all concurrent callers of the same key, on the first caller's
	// context; a waiter whose request ends gives up waiting (the Create goes on). Only the
	// caller whose function ran reports created: the others shared its work.
	ran := false
	ch := e.flight.DoChan(key, func() (any, error) {
		ran = true
		if e.known.has(key) {
			return false, nil
		}
		err := e.writer.Create(ctx, cm.DeepCopy())
		switch {
		case err == nil:
		case apierrors.IsAlreadyExists(err):
		default:
			return false, fmt.Errorf("when creating ConfigMap %s: %w", key, err)
		}
		e.known.add(key)
		return err == nil, nil
	})
	select {
	case r := <-ch:
		// ran is read after the result arrives, which happens after the function returned.
		return ran && r.Val.(bool), r.Err
	case <-ctx.Done():
		return false, errWaitCancelled
	}
}
