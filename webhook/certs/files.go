package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Defaults of FileOptions.
const (
	// DefaultCertDir is where the chart mounts the serving Secret (flag --cert-dir).
	DefaultCertDir = "/etc/osm-injector/certs"
	// DefaultPollInterval bounds how long a change the file watch missed goes unnoticed.
	DefaultPollInterval = 10 * time.Second
	// settleDelay lets a burst of file events (one atomic-writer swap is several) end before
	// the files are read.
	settleDelay = 100 * time.Millisecond
)

// FileOptions configure a FileProvider.
type FileOptions struct {
	// Dir holds tls.crt and tls.key, as a mounted kubernetes.io/tls Secret does. Required.
	Dir string
	// PollInterval is how often the files are read again even without a file event; default
	// DefaultPollInterval.
	PollInterval time.Duration
	// Clock is the time source; default the system clock.
	Clock Clock
}

// FileProvider is a Provider that serves the certificate an outside issuer (cert-manager)
// writes into a directory: tls.crt and tls.key of a Secret volume. It reloads them when they
// change, without a restart, and handles the kubelet's atomic writer, which swaps the
// ..data symlink to a new timestamped folder instead of writing the files in place: the
// directory itself is watched (fsnotify), so the swap is seen, and the files are also read
// every PollInterval in case an event was missed or the directory appeared late.
//
// Ready reports an error until a valid pair is loaded, and again whenever the files are
// missing, undecodable or expired. Note what a Secret volume does when its Secret is
// deleted: the kubelet keeps the last files, so this provider stays ready (and serves a
// still-valid certificate). SecretProvider, which watches the Secret through the API, reports
// the deletion. See externalCert for what both promise.
type FileProvider struct {
	externalCert
	opts    FileOptions
	started atomic.Bool
	// last are the bytes last read, so an unchanged pair is not decoded and logged again.
	lastCert, lastKey []byte
}

var _ Provider = (*FileProvider)(nil)

// NewFileProvider makes a provider of the pair in opts.Dir. Nothing is read before Start.
func NewFileProvider(opts FileOptions) (*FileProvider, error) {
	if opts.Dir == "" {
		return nil, errors.New("certs: FileOptions.Dir is required")
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.PollInterval < 0 {
		return nil, fmt.Errorf("certs: FileOptions.PollInterval %s is negative", opts.PollInterval)
	}
	dir := filepath.Clean(opts.Dir)
	opts.Dir = dir
	return &FileProvider{
		externalCert: newExternalCert("directory "+dir, opts.Clock, logf.Log.WithName("webhook-certs").WithValues("dir", dir)),
		opts:         opts,
	}, nil
}

// WithLogger sets the logger (before Start) and returns the provider.
func (f *FileProvider) WithLogger(log logr.Logger) *FileProvider {
	f.log = log
	return f
}

// Start reads the files, then follows them until ctx ends. It returns nil when ctx ends.
func (f *FileProvider) Start(ctx context.Context) error {
	if !f.started.CompareAndSwap(false, true) {
		return errStartedTwice
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		// Polling alone still works; only the reaction is slower.
		f.log.Error(err, "cannot watch the certificate directory; polling it only", "every", f.opts.PollInterval)
	} else {
		defer func() { _ = watcher.Close() }()
		events, errs = watcher.Events, watcher.Errors
	}
	watching := false
	poll := time.NewTicker(f.opts.PollInterval)
	defer poll.Stop()
	for {
		// (Re)establish the watch: the directory may appear after the start, or be replaced.
		if watcher != nil && !watching {
			watching = watcher.Add(f.opts.Dir) == nil
		}
		f.reload()
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Name == f.opts.Dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watching = false
			}
			// One atomic-writer swap is several events: let the burst end, then read once.
			if !drain(ctx, events, settleDelay) {
				return nil
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			f.log.Error(err, "certificate directory watch error; the files are still polled", "every", f.opts.PollInterval)
		}
	}
}

// drain discards events for d; false when ctx ended meanwhile.
func drain(ctx context.Context, events <-chan fsnotify.Event, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case _, ok := <-events:
			if !ok {
				events = nil
			}
		}
	}
}

// reload reads tls.crt and tls.key (following the atomic writer's symlinks) and offers them.
func (f *FileProvider) reload() {
	certPEM, err := os.ReadFile(filepath.Join(f.opts.Dir, KeyServingCert))
	if err != nil {
		f.lastCert, f.lastKey = nil, nil
		f.fail(fmt.Errorf("when reading %s: %w", KeyServingCert, err))
		return
	}
	keyPEM, err := os.ReadFile(filepath.Join(f.opts.Dir, KeyServingKey))
	if err != nil {
		f.lastCert, f.lastKey = nil, nil
		f.fail(fmt.Errorf("when reading %s: %w", KeyServingKey, err))
		return
	}
	if f.healthy() && bytes.Equal(certPEM, f.lastCert) && bytes.Equal(keyPEM, f.lastKey) {
		// Unchanged and loaded; Ready notices expiry on its own.
		return
	}
	f.lastCert, f.lastKey = certPEM, keyPEM
	f.offer(certPEM, keyPEM)
}
