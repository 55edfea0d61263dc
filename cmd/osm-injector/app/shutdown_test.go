package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// fakeDelay stands in for time.After: it reports each requested delay and elapses only when
// the test says so.
type fakeDelay struct {
	asked   chan time.Duration
	elapsed chan time.Time
}

func newFakeDelay() *fakeDelay {
	return &fakeDelay{asked: make(chan time.Duration, 1), elapsed: make(chan time.Time)}
}

func (f *fakeDelay) after(d time.Duration) <-chan time.Time {
	f.asked <- d
	return f.elapsed
}

// serve calls a handler through the shutdown's wrapper and returns the response's headers.
func serve(s *shutdown) http.Header {
	h := s.handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("{}"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mutate-v1-pod", nil))
	return rec.Header()
}

// TestShutdownOrder: on the signal the replica is first not ready (and closes connections
// after each answer) while its manager still runs; the manager's context ends only when the
// delay has passed.
func TestShutdownOrder(t *testing.T) {
	clock := newFakeDelay()
	s := newShutdown(7*time.Second, logr.Discard())
	s.after = clock.after
	signal, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	mgrCtx, stop := s.context(signal)
	defer stop()

	if err := s.readyCheck(nil); err != nil {
		t.Fatalf("ready check before the signal: %v", err)
	}
	if got := serve(s).Get("Connection"); got != "" {
		t.Errorf("before the signal an answer carries Connection: %q; keep-alive should stay", got)
	}

	sigterm()
	if d := <-clock.asked; d != 7*time.Second {
		t.Errorf("the shutdown waits %v, want the configured 7s", d)
	}
	// The delay has begun: the replica drains, the manager still runs.
	if err := s.readyCheck(nil); !errors.Is(err, errShuttingDown) {
		t.Errorf("ready check while draining = %v, want %v", err, errShuttingDown)
	}
	if got := serve(s).Get("Connection"); got != "close" {
		t.Errorf("while draining an answer carries Connection: %q, want close", got)
	}
	select {
	case <-mgrCtx.Done():
		t.Fatal("the manager's context ended before the shutdown delay passed")
	default:
	}

	clock.elapsed <- time.Now()
	<-mgrCtx.Done() // the test's deadline catches a context that never ends
}

// TestShutdownWithoutDelay: --shutdown-delay=0 stops the manager at once, not ready first.
func TestShutdownWithoutDelay(t *testing.T) {
	s := newShutdown(0, logr.Discard())
	s.after = func(time.Duration) <-chan time.Time {
		t.Error("a zero delay must not wait")
		return nil
	}
	signal, sigterm := context.WithCancel(context.Background())
	mgrCtx, stop := s.context(signal)
	defer stop()
	sigterm()
	<-mgrCtx.Done()
	if err := s.readyCheck(nil); !errors.Is(err, errShuttingDown) {
		t.Errorf("ready check after the stop = %v, want %v", err, errShuttingDown)
	}
}

// TestShutdownReleasedEarly: when Run returns on its own (the manager failed), releasing the
// context ends it without a signal and without marking the replica as draining.
func TestShutdownReleasedEarly(t *testing.T) {
	s := newShutdown(time.Hour, logr.Discard())
	mgrCtx, stop := s.context(context.Background())
	stop()
	<-mgrCtx.Done()
	if err := s.readyCheck(nil); err != nil {
		t.Errorf("ready check = %v; nothing asked the replica to drain", err)
	}
}
