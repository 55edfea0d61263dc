package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// tailLines is how many log lines of each process a failed test prints.
const tailLines = 50

// runner owns the processes of one test's environment: t.Cleanup stops them, newest first,
// and prints the end of their logs when the test failed.
type runner struct {
	t     testing.TB
	dir   string
	mu    sync.Mutex
	procs []*process
}

// newRunner makes a temporary folder and a runner whose processes are stopped before the
// folder is removed.
func newRunner(t testing.TB, prefix string) *runner {
	t.Helper()
	r := &runner{t: t, dir: tempDir(t, prefix)}
	t.Cleanup(r.stopAll)
	return r
}

// tempDir is t.TempDir, or a kept folder when OSM_E2E_KEEP is set.
func tempDir(t testing.TB, prefix string) string {
	t.Helper()
	if !envTrue(EnvKeep) {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("framework: when making a temporary folder: %v", err)
	}
	t.Logf("framework: %s is set, keeping %s", EnvKeep, dir)
	return dir
}

func (r *runner) start(name, bin string, args []string, env ...string) (*process, error) {
	p, err := startProcess(r.dir, name, bin, args, env)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.procs = append(r.procs, p)
	r.mu.Unlock()
	return p, nil
}

func (r *runner) stopAll() {
	r.mu.Lock()
	procs := r.procs
	r.procs = nil
	r.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
	if r.t.Failed() {
		for _, p := range procs {
			r.t.Logf("framework: last %d lines of %s (%s):\n%s", tailLines, p.name, p.logPath, p.tail(tailLines))
		}
	}
}

// checkAlive returns an error, with the end of its log, for a process that has ended.
func (r *runner) checkAlive() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.procs {
		if ended, err := p.exitError(); ended {
			return fmt.Errorf("%w; last lines of %s:\n%s", err, p.logPath, p.tail(20))
		}
	}
	return nil
}

// waitFor polls cond every interval until it returns true, an error, a process of the runner
// ends, or the context is done. The last error cond reported is part of a timeout's message.
func (r *runner) waitFor(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	const interval = 100 * time.Millisecond
	var last error
	err := wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		if err := r.checkAlive(); err != nil {
			return false, err
		}
		ok, err := cond(ctx)
		switch {
		case err != nil && errors.Is(err, errPermanent):
			return false, err
		case err != nil:
			last = err
		}
		return ok && err == nil, nil
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil || last == nil: // a process ended, a permanent error, or no error seen
		return fmt.Errorf("when waiting for %s: %w", what, err)
	}
	return fmt.Errorf("when waiting for %s: %w (last error: %s)", what, err, strings.TrimSpace(last.Error()))
}

// errPermanent marks an error that ends a wait at once.
var errPermanent = errors.New("permanent")
