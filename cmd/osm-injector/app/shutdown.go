package app

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// errShuttingDown is what /readyz says once the injector is stopping.
var errShuttingDown = errors.New("shutting down: the webhook answers what is still sent to it, but takes nothing new")

// shutdown orders a graceful stop. A replica that stops serving when SIGTERM arrives would
// refuse admissions the API server is sending it right then: the endpoints controller and
// every kube-proxy only learn a moment later that the pod is going, and until then they still
// route new connections to it. So, when the signal comes (the parent context ends):
//
//  1. the replica stops being ready (/readyz fails), which takes it out of the Service's
//     endpoints, and every answer of the webhook carries "Connection: close", so that the API
//     server's keep-alive connections to it end after their current request and the next
//     requests open connections to the replicas that stay;
//  2. it keeps serving for delay (--shutdown-delay), while the change spreads;
//  3. only then the manager's context ends: the webhook server closes its listener and waits
//     for the admissions in flight (controller-runtime's own drain), the controllers stop, the
//     leader Lease is released, bounded by --graceful-shutdown-timeout.
//
// This is done in the process because the image has no shell for a preStop hook, and because
// the same order is right for an injector run outside the cluster.
type shutdown struct {
	delay time.Duration
	log   logr.Logger
	// after is time.After; tests replace it.
	after func(time.Duration) <-chan time.Time

	draining atomic.Bool
}

func newShutdown(delay time.Duration, log logr.Logger) *shutdown {
	return &shutdown{delay: delay, log: log, after: time.After}
}

// context returns the manager's context: it ends delay after parent ends, and the replica is
// draining from the moment parent ends. The cancel function releases it early (Run returning).
func (s *shutdown) context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	go func() {
		select {
		case <-parent.Done():
		case <-ctx.Done():
			return
		}
		s.draining.Store(true)
		if s.delay > 0 {
			s.log.Info("shutting down: not ready any more, still serving admissions", "shutdownDelay", s.delay.String())
			select {
			case <-s.after(s.delay):
			case <-ctx.Done():
			}
		}
		s.log.Info("shutting down: stopping the webhook server (in-flight admissions finish) and the controllers")
		cancel()
	}()
	return ctx, cancel
}

// readyCheck is the /readyz check: failing once the replica drains.
func (s *shutdown) readyCheck(*http.Request) error {
	if s.draining.Load() {
		return errShuttingDown
	}
	return nil
}

// handler wraps the webhook's handler: while draining, each answer closes its connection.
func (s *shutdown) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			// net/http closes the connection after this response; HTTP/2 is not served.
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}
