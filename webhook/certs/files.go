package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Defaults of FileOptions.
const (
	// DefaultCertDir is where the chart mounts the serving Secret (flag --cert-dir).
	DefaultCertDir = "/etc/osm-injector/certs"
	// DefaultPollInterval bounds how long a change the file watch missed, or a problem with
	// the files, goes unnoticed.
	DefaultPollInterval = 10 * time.Second
)

// FileOptions configure a FileProvider.
type FileOptions struct {
	// Dir holds tls.crt and tls.key, as a mounted kubernetes.io/tls Secret does. Required.
	Dir string
	// PollInterval is how often the files are read again even without a file event, and how
	// often Ready learns whether they are still usable; default DefaultPollInterval.
	PollInterval time.Duration
	// Clock tells the time that the certificate's validity is checked against; default the
	// system clock.
	Clock clock.PassiveClock
}

// FileProvider is a Provider that serves the certificate an outside issuer (cert-manager)
// writes into a directory: tls.crt and tls.key of a Secret volume. It reloads them when they
// change, without a restart.
//
// Controller-runtime's certwatcher reads and follows the files: it watches them (fsnotify),
// which also sees the kubelet's atomic writer swap the ..data symlink to a new timestamped
// folder (the watched file is removed, and the watch is set again on the new one), and reads
// them again every PollInterval. FileProvider adds what certwatcher leaves to its caller:
//   - certwatcher needs the files to exist when it is made, so until they do the provider
//     tries again every PollInterval (the volume may be populated late);
//   - certwatcher only logs a failed read, so every PollInterval the provider reads the files
//     through it and records the outcome, which Ready reports;
//   - a pair is served only while it is within its validity period (external.go).
//
// Ready reports an error until a valid pair is loaded, and again, within PollInterval,
// whenever the files are missing, undecodable or expired. Note what a Secret volume does when
// its Secret is deleted: the kubelet keeps the last files, so this provider stays ready (and
// serves a still-valid certificate). SecretProvider, which watches the Secret through the
// API, reports the deletion. See externalCert for what both promise.
type FileProvider struct {
	externalCert
	opts    FileOptions
	started atomic.Bool
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
		return nil, fmt.Errorf("certs: FileOptions.PollInterval %s is negative, want a positive duration such as %s",
			opts.PollInterval, DefaultPollInterval)
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

// Start reads the files, then follows them until ctx ends. It returns nil when ctx ends, and
// an error when certwatcher cannot watch files it has just read (they vanished at once); the
// manager then stops, as it does when its own webhook server cannot watch its certificate.
func (f *FileProvider) Start(ctx context.Context) error {
	if !f.started.CompareAndSwap(false, true) {
		return errStartedTwice
	}
	certFile, keyFile := filepath.Join(f.opts.Dir, KeyServingCert), filepath.Join(f.opts.Dir, KeyServingKey)
	var watcher *certwatcher.CertWatcher
	_ = wait.PollUntilContextCancel(ctx, f.opts.PollInterval, true, func(context.Context) (bool, error) {
		w, err := certwatcher.New(certFile, keyFile)
		if err != nil {
			f.fail(loadError(err))
			return false, nil
		}
		watcher = w.WithWatchInterval(f.opts.PollInterval)
		return true, nil
	})
	if watcher == nil { // ctx ended first
		return nil
	}
	poll := time.NewTicker(f.opts.PollInterval)
	defer poll.Stop()
	// The callback runs with the watcher's lock held (at once, for the pair New read) or on a
	// goroutine of its own per change: it only signals, and this loop loads the watcher's
	// current pair, so loads never race and never reorder.
	changed := make(chan struct{}, 1)
	watcher.RegisterCallback(func(tls.Certificate) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	watchDone := make(chan error, 1)
	go func() { watchDone <- watcher.Start(ctx) }()
	for {
		select {
		case <-ctx.Done():
			// Wait for it to close its file watch; its error after a cancel only says it stopped.
			if err := <-watchDone; err != nil {
				f.log.V(1).Info("the certificate watcher stopped", "error", err.Error())
			}
			return nil
		case err := <-watchDone:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("certs: when watching %s and %s: %w", certFile, keyFile, err)
		case <-changed:
			f.loadCurrent(watcher)
		case <-poll.C:
			// A read that fails leaves the watcher's pair in place and is only logged by it;
			// one that succeeds may bring back the pair it already holds, with no callback.
			if err := watcher.ReadCertificate(); err != nil {
				f.fail(loadError(err))
				continue
			}
			f.loadCurrent(watcher)
		}
	}
}

// loadCurrent offers the pair the watcher holds.
func (f *FileProvider) loadCurrent(watcher *certwatcher.CertWatcher) {
	if pair, _ := watcher.GetCertificate(nil); pair != nil {
		f.offerPair(pair)
	}
}

// loadError says what failed when certwatcher read the files.
func loadError(err error) error {
	return fmt.Errorf("when loading %s and %s: %w", KeyServingCert, KeyServingKey, err)
}
