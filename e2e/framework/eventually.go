package framework

import (
	"context"
	"errors"
	"testing"
	"time"
)

// ErrStop, wrapped in what an Eventually condition returns, ends the wait at once.
var ErrStop = errors.New("giving up")

// Eventually polls f every 200ms until it returns nil, and fails the test when ctx ends (with
// f's last error) or when f returns an error wrapping ErrStop.
func Eventually(ctx context.Context, t testing.TB, what string, f func() error) {
	t.Helper()
	var last error
	for {
		if last = f(); last == nil {
			return
		}
		if errors.Is(last, ErrStop) {
			t.Fatalf("waiting for %s: %v", what, last)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
