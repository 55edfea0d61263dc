package framework

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// This file runs the framework outside of `go test`, for long-lived local control planes
// such as the demo's (hack/localcluster): Launch and LaunchJaeger start what Start and
// StartJaeger start, and Stop ends it.
//
// Start and StartJaeger take a testing.TB. Rather than changing every internal that uses it,
// Launch hands them launchTB, a testing.TB for a program: Fatal ends the starting goroutine
// (runtime.Goexit, as the testing package does) and becomes Launch's error, Cleanup
// registers what Stop runs, newest first, and TempDir makes folders under
// LaunchOptions.Dir.

// LaunchOptions say where a launched cluster or Jaeger keeps its files and where its messages
// go.
type LaunchOptions struct {
	// Dir is the folder under which the processes' folders (logs, certificates, data) are
	// made; they are kept after Stop so their logs can be read. Empty means the system's
	// temporary folder, and the folders are removed by Stop (unless OSM_E2E_KEEP is set).
	Dir string
	// Logf receives the framework's progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// Launch starts a cluster as Start does, but outside of a test: it returns an error instead of
// failing a test, and the cluster runs until Stop is called or the program ends (its
// processes get SIGKILL when the program dies). ctx bounds the start-up only.
func Launch(ctx context.Context, opts Options, lo LaunchOptions) (*Cluster, error) {
	tb := newLaunchTB(ctx, "cluster", lo)
	c, err := launchWith(tb, func(t testing.TB) *Cluster { return Start(t, opts) })
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Stop stops a cluster made by Launch: every process (SIGTERM, then SIGKILL), newest first,
// and whatever else was registered on it (port-forwards). It returns when they have ended.
// Calling it again does nothing. For a cluster made by Start it does nothing: the test's
// cleanup stops that one.
func (c *Cluster) Stop() {
	if tb, ok := c.t.(*launchTB); ok {
		tb.stop()
	}
}

// LaunchJaeger starts Jaeger as StartJaeger does, but outside of a test. stop ends it.
func LaunchJaeger(ctx context.Context, lo LaunchOptions) (j *Jaeger, stop func(), err error) {
	tb := newLaunchTB(ctx, "jaeger", lo)
	j, err = launchWith(tb, StartJaeger)
	if err != nil {
		return nil, nil, err
	}
	return j, tb.stop, nil
}

// launchWith runs start on its own goroutine, so that a Fatal (runtime.Goexit) ends that
// goroutine only, and turns a failure into an error after stopping what was started.
func launchWith[T any](tb *launchTB, start func(testing.TB) T) (T, error) {
	var out T
	done := make(chan struct{})
	go func() {
		defer close(done)
		out = start(tb)
	}()
	<-done
	if err := tb.err(); err != nil {
		tb.stop()
		var zero T
		return zero, err
	}
	return out, nil
}

// launchTB is the testing.TB of a launched cluster. The embedded TB is nil: it only provides
// testing.TB's unexported method, and every method the interface has is defined below.
type launchTB struct {
	testing.TB

	name   string
	dir    string
	logf   func(format string, args ...any)
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	skipped  bool
	msgs     []string
	stopOnce sync.Once
}

var _ testing.TB = (*launchTB)(nil)

func newLaunchTB(ctx context.Context, name string, lo LaunchOptions) *launchTB {
	logf := lo.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	// Only the start-up uses the context (Start's timeout): cancelling ctx later stops
	// nothing, Stop does.
	lctx, cancel := context.WithCancel(ctx)
	return &launchTB{name: name, dir: lo.Dir, logf: logf, ctx: lctx, cancel: cancel}
}

// err is the failure (or skip) recorded while starting, or nil.
func (l *launchTB) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failed && !l.skipped {
		return nil
	}
	msg := strings.Join(l.msgs, "; ")
	if msg == "" {
		msg = "failed without a message"
	}
	return fmt.Errorf("framework: launching %s: %s", l.name, msg)
}

// stop cancels the context and runs the cleanups, newest first, once.
func (l *launchTB) stop() {
	l.stopOnce.Do(func() {
		l.cancel()
		l.mu.Lock()
		cleanups := l.cleanups
		l.cleanups = nil
		l.mu.Unlock()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	})
}

func (l *launchTB) record(failed, skipped bool, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed = l.failed || failed
	l.skipped = l.skipped || skipped
	if msg != "" {
		l.msgs = append(l.msgs, msg)
	}
}

func (l *launchTB) ArtifactDir() string      { return l.TempDir() }
func (l *launchTB) Attr(_, _ string)         {}
func (l *launchTB) Helper()                  {}
func (l *launchTB) Name() string             { return l.name }
func (l *launchTB) Context() context.Context { return l.ctx }
func (l *launchTB) Output() io.Writer        { return logWriter{l} }
func (l *launchTB) Log(args ...any)          { l.logf("%s", strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }
func (l *launchTB) Logf(format string, args ...any) {
	l.logf(format, args...)
}

func (l *launchTB) Cleanup(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cleanups = append(l.cleanups, f)
}

func (l *launchTB) Error(args ...any) {
	msg := strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	l.logf("%s", msg)
	l.record(true, false, msg)
}

func (l *launchTB) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.logf("%s", msg)
	l.record(true, false, msg)
}

func (l *launchTB) Fail() { l.record(true, false, "") }

func (l *launchTB) FailNow() {
	l.record(true, false, "")
	runtime.Goexit()
}

func (l *launchTB) Failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

func (l *launchTB) Fatal(args ...any) {
	l.Error(args...)
	runtime.Goexit()
}

func (l *launchTB) Fatalf(format string, args ...any) {
	l.Errorf(format, args...)
	runtime.Goexit()
}

func (l *launchTB) Skip(args ...any) {
	l.record(false, true, strings.TrimSuffix(fmt.Sprintln(args...), "\n"))
	runtime.Goexit()
}

func (l *launchTB) Skipf(format string, args ...any) {
	l.record(false, true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (l *launchTB) SkipNow() {
	l.record(false, true, "")
	runtime.Goexit()
}

func (l *launchTB) Skipped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.skipped
}

// TempDir makes a new folder under LaunchOptions.Dir (kept), or a temporary one that Stop
// removes.
func (l *launchTB) TempDir() string {
	if l.dir != "" {
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			l.Fatalf("framework: when making %s: %v", l.dir, err)
		}
	}
	dir, err := os.MkdirTemp(l.dir, l.name+"-")
	if err != nil {
		l.Fatalf("framework: when making a folder: %v", err)
	}
	if l.dir == "" && !envTrue(EnvKeep) {
		l.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	return dir
}

// Setenv and Chdir change the process, as they do in a test, and undo it on Stop.
func (l *launchTB) Setenv(key, value string) {
	old, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		l.Fatalf("framework: Setenv %s: %v", key, err)
	}
	l.Cleanup(func() {
		if had {
			_ = os.Setenv(key, old)
		} else {
			_ = os.Unsetenv(key)
		}
	})
}

func (l *launchTB) Chdir(dir string) {
	old, err := os.Getwd()
	if err != nil {
		l.Fatalf("framework: Chdir: %v", err)
	}
	if err := os.Chdir(dir); err != nil {
		l.Fatalf("framework: Chdir %s: %v", dir, err)
	}
	l.Cleanup(func() { _ = os.Chdir(old) })
}

// logWriter is Output: each write is one message.
type logWriter struct{ l *launchTB }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.logf("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
