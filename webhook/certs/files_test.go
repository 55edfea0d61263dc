package certs

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"k8s.io/apimachinery/pkg/util/wait"
)

// pairPEM is a serving certificate and its key, PEM encoded, as cert-manager writes them.
type pairPEM struct {
	cert, key []byte
	serial    *big.Int
}

// newPairPEM issues a serving certificate valid from now-validity/10 for validity.
func newPairPEM(t *testing.T, now time.Time, validity time.Duration) pairPEM {
	t.Helper()
	ca := mustCA(t, now, 10*validity)
	kp := mustServing(t, ca, now, validity, []string{"osm-injector.osm-system.svc"}, nil)
	key, err := encodeKey(kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pairPEM{cert: encodeCerts(kp.Cert, ca.Cert), key: key, serial: kp.Cert.SerialNumber}
}

// atomicWriter lays out a directory as the kubelet does for a Secret volume, and updates it
// the same way: a new timestamped folder, a ..data_tmp symlink renamed over ..data, then
// the old folder removed. tls.crt and tls.key are symlinks into ..data.
type atomicWriter struct {
	t   *testing.T
	dir string
	n   int
}

func (w *atomicWriter) write(files map[string][]byte) {
	w.t.Helper()
	w.n++
	ts := fmt.Sprintf("..2030_01_01_00_00_%02d.%d", w.n, w.n)
	if err := os.MkdirAll(filepath.Join(w.dir, ts), 0o755); err != nil {
		w.t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(w.dir, ts, name), data, 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
	old, _ := os.Readlink(filepath.Join(w.dir, "..data"))
	tmp := filepath.Join(w.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, "..data")); err != nil {
		w.t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(w.dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			w.t.Fatal(err)
		}
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(w.dir, old)); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *atomicWriter) writePair(p pairPEM) {
	w.t.Helper()
	w.write(map[string][]byte{KeyServingCert: p.cert, KeyServingKey: p.key})
}

// clear removes everything, as if the volume were emptied.
func (w *atomicWriter) clear() {
	w.t.Helper()
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(w.dir, e.Name())); err != nil {
			w.t.Fatal(err)
		}
	}
}

// startProvider runs p.Start until the test ends.
func startProvider(t *testing.T, start func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := start(ctx); err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		last = cond()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, last)
	}
}

// serves is a condition: GetCertificate returns the certificate of serial.
func serves(p Provider, serial *big.Int) func() error {
	return func() error {
		c, err := p.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			return err
		}
		if c.Leaf.SerialNumber.Cmp(serial) != 0 {
			return fmt.Errorf("serving serial %x, want %x", c.Leaf.SerialNumber, serial)
		}
		return nil
	}
}

func notReady(p Provider, want string) func() error {
	return func() error {
		err := p.Ready()
		switch {
		case err == nil:
			return fmt.Errorf("Ready() = nil, want an error containing %q", want)
		case !strings.Contains(err.Error(), want):
			return fmt.Errorf("Ready() = %w, want an error containing %q", err, want)
		}
		return nil
	}
}

func TestFileProviderFollowsAtomicWriterSwaps(t *testing.T) {
	now := time.Now()
	w := &atomicWriter{t: t, dir: t.TempDir()}
	first := newPairPEM(t, now, time.Hour)
	w.writePair(first)
	// A poll interval of an hour: every reload after the first read comes from a file event.
	p, err := NewFileProvider(FileOptions{Dir: w.dir, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p.WithLogger(testr.New(t))
	if p.CABundle() != nil {
		t.Error("CABundle() is not nil: the cainjector owns the caBundle")
	}
	if err := notReady(p, "no serving certificate loaded yet")(); err != nil {
		t.Errorf("before Start: %v", err)
	}
	startProvider(t, p.Start)
	waitUntil(t, "the first certificate", serves(p, first.serial))
	if err := p.Ready(); err != nil {
		t.Errorf("Ready() = %v after a valid pair was read", err)
	}

	for i := range 3 {
		renewed := newPairPEM(t, now, time.Hour)
		w.writePair(renewed)
		waitUntil(t, fmt.Sprintf("renewal %d", i+1), serves(p, renewed.serial))
	}
	if err := p.Ready(); err != nil {
		t.Errorf("Ready() = %v after renewals", err)
	}
}

func TestFileProviderReportsUnusableFilesAndRecovers(t *testing.T) {
	now := time.Now()
	w := &atomicWriter{t: t, dir: t.TempDir()}
	p, err := NewFileProvider(FileOptions{Dir: w.dir, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.WithLogger(testr.New(t))
	startProvider(t, p.Start)
	waitUntil(t, "not ready before any file", notReady(p, "no such file"))
	if _, err := p.GetCertificate(&tls.ClientHelloInfo{}); err == nil {
		t.Error("GetCertificate succeeded before any certificate was loaded")
	}

	first := newPairPEM(t, now, time.Hour)
	w.writePair(first)
	waitUntil(t, "the first certificate", serves(p, first.serial))
	if err := p.Ready(); err != nil {
		t.Errorf("Ready() = %v after a valid pair was written", err)
	}

	// A key that does not match: not loaded, not ready, the first pair is still served.
	other := newPairPEM(t, now, time.Hour)
	w.write(map[string][]byte{KeyServingCert: other.cert, KeyServingKey: first.key})
	waitUntil(t, "not ready on a mismatched pair", notReady(p, "does not match"))
	if err := serves(p, first.serial)(); err != nil {
		t.Errorf("after a bad write: %v", err)
	}

	// The good pair written back is the pair already held: ready again all the same.
	w.writePair(first)
	waitUntil(t, "ready with the good pair back", p.Ready)

	w.clear()
	waitUntil(t, "not ready once the files are gone", notReady(p, "no such file"))
	if err := serves(p, first.serial)(); err != nil {
		t.Errorf("after the files vanished: %v (the last valid certificate must still be served)", err)
	}

	again := newPairPEM(t, now, time.Hour)
	w.writePair(again)
	waitUntil(t, "recovery", serves(p, again.serial))
	waitUntil(t, "ready after recovery", p.Ready)
}

func TestFileProviderPollsADirectoryThatAppearsLater(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	p, err := NewFileProvider(FileOptions{Dir: dir, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.WithLogger(testr.New(t))
	startProvider(t, p.Start)
	waitUntil(t, "not ready without the directory", notReady(p, "no such file"))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pair := newPairPEM(t, time.Now(), time.Hour)
	(&atomicWriter{t: t, dir: dir}).writePair(pair)
	waitUntil(t, "the certificate", serves(p, pair.serial))
}

func TestFileProviderRefusesOutOfValidityCertificates(t *testing.T) {
	now := time.Now()
	clock := newFakeClock()
	clock.SetTime(now)
	w := &atomicWriter{t: t, dir: t.TempDir()}
	expired := newPairPEM(t, now.Add(-3*time.Hour), time.Hour)
	w.writePair(expired)
	p, err := NewFileProvider(FileOptions{Dir: w.dir, PollInterval: 20 * time.Millisecond, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	p.WithLogger(testr.New(t))
	startProvider(t, p.Start)
	waitUntil(t, "an expired certificate refused", notReady(p, "expired"))
	if _, err := p.GetCertificate(&tls.ClientHelloInfo{}); err == nil {
		t.Error("an expired certificate is served")
	}

	valid := newPairPEM(t, now, time.Hour)
	w.writePair(valid)
	waitUntil(t, "the valid certificate", serves(p, valid.serial))
	// Time passes beyond its expiry with no renewal: not ready, and not served.
	clock.SetTime(now.Add(2 * time.Hour))
	if err := notReady(p, "expired")(); err != nil {
		t.Error(err)
	}
	if _, err := p.GetCertificate(&tls.ClientHelloInfo{}); err == nil {
		t.Error("GetCertificate serves an expired certificate")
	}
}

func TestNewFileProviderNeedsADirectory(t *testing.T) {
	if _, err := NewFileProvider(FileOptions{}); err == nil {
		t.Error("NewFileProvider accepted an empty Dir")
	}
	if _, err := NewFileProvider(FileOptions{Dir: "x", PollInterval: -time.Second}); err == nil {
		t.Error("NewFileProvider accepted a negative PollInterval")
	}
}

func TestFileProviderStartsOnce(t *testing.T) {
	p, err := NewFileProvider(FileOptions{Dir: t.TempDir(), PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p.WithLogger(testr.New(t))
	startProvider(t, p.Start)
	waitUntil(t, "the first start to run", notReady(p, "no such file"))
	if err := p.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
}
