package framework

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// ErrStop, wrapped in what an Eventually condition returns, ends the wait at once.
var ErrStop = errors.New("giving up")

// Eventually polls f every 200ms until it returns nil, and fails the test when ctx ends (with
// f's last error) or when f returns an error wrapping ErrStop.
func Eventually(ctx context.Context, t testing.TB, what string, f func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		last = f()
		if errors.Is(last, ErrStop) {
			return false, last
		}
		return last == nil, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrStop):
		t.Fatalf("waiting for %s: %v", what, err)
	default:
		t.Fatalf("waiting for %s: %v (last: %v)", what, err, last)
	}
}
