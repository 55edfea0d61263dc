package certs

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Bounds of the loop's waits.
const (
	// minWait keeps a certificate that is due at once from spinning the loop.
	minWait = time.Second
	// Retry backoff after a failed sync.
	minBackoff = time.Second
	maxBackoff = time.Minute
)

// Start loads (creating or repairing) the Secret, then keeps the served certificate and
// bundle in step with it until ctx ends: an informer on the one Secret delivers every
// replica's writes, and a timer wakes the provider when something falls due (renewal, CA
// rotation, bundle pruning). Failures are retried with backoff and logged; Ready reports
// whether a certificate is loaded. It returns nil when ctx ends.
func (s *SelfSigned) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("certs: SelfSigned.Start called twice")
	}
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
		informers.WithNamespace(s.opts.Namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", s.opts.SecretName).String()
		}))
	informer := factory.Core().V1().Secrets().Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.onEvent,
		UpdateFunc: func(_, obj any) { s.onEvent(obj) },
		DeleteFunc: func(any) { signal(s.kick) },
	}); err != nil {
		return fmt.Errorf("when watching Secret %s/%s: %w", s.opts.Namespace, s.opts.SecretName, err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()

	backoff := minBackoff
	for {
		var wait time.Duration
		m, err := s.sync(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error(err, "webhook certificate sync failed; retrying", "in", backoff)
			wait, backoff = backoff, min(2*backoff, maxBackoff)
		} else {
			backoff = minBackoff
			wait = s.waitFor(m)
		}
		timer := s.opts.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.kick:
		case <-timer.C():
		}
		timer.Stop()
	}
}

// waitFor is how long to sleep before the material next needs attention, within
// [minWait, Resync].
func (s *SelfSigned) waitFor(m material) time.Duration {
	at := nextCheck(s.opts, m)
	if at.IsZero() {
		return s.opts.Resync
	}
	return min(max(at.Sub(s.opts.Clock.Now()), minWait), s.opts.Resync)
}

// onEvent loads a Secret the informer delivered and asks the loop to check it.
func (s *SelfSigned) onEvent(obj any) {
	secret, ok := obj.(*corev1.Secret)
	if !ok || secret.Name != s.opts.SecretName || secret.Namespace != s.opts.Namespace {
		return
	}
	s.load(secret)
	signal(s.kick)
}
