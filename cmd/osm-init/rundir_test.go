package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// TestPrepareRunDir: the copy is osm-init's bytes, executable by any uid; the link points at
// the rendering that fits the kernel; a second run replaces both.
func TestPrepareRunDir(t *testing.T) {
	dir, src := t.TempDir(), filepath.Join(t.TempDir(), "osm-init")
	if err := os.WriteFile(src, []byte("first build"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ipv6    bool
		content string
		want    string
	}{
		{true, "first build", bootstrap.BootstrapKey},
		{false, "second build", bootstrap.BootstrapIPv4Key},
		{true, "third", bootstrap.BootstrapKey},
	} {
		if err := os.WriteFile(src, []byte(c.content), 0o700); err != nil {
			t.Fatal(err)
		}
		key, err := prepareRunDir(dir, "/etc/envoy", src, c.ipv6)
		if err != nil || key != c.want {
			t.Fatalf("IPv6 %t: prepareRunDir = %q, %v; want %q", c.ipv6, key, err, c.want)
		}
		target, err := os.Readlink(redirect.BootstrapLink(dir))
		if err != nil || target != "/etc/envoy/"+c.want {
			t.Errorf("IPv6 %t: the link points at %q (%v)", c.ipv6, target, err)
		}
		got, err := os.ReadFile(redirect.BinaryPath(dir))
		if err != nil || string(got) != c.content {
			t.Errorf("the copy holds %q (%v), want %q", got, err, c.content)
		}
		if fi, err := os.Stat(redirect.BinaryPath(dir)); err != nil || fi.Mode().Perm() != 0o555 {
			t.Errorf("the copy's mode = %v (%v), want r-xr-xr-x", fi.Mode(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the run folder holds %d entries, want the binary and the link alone", len(entries))
	}
}

// TestRunPreparesTheRunDir: the flags go together, and osm-init prepares the folder after the
// redirect is in.
func TestRunPreparesTheRunDir(t *testing.T) {
	dir := t.TempDir()
	sys, _ := fake(false, nil)
	var stdout, stderr bytes.Buffer
	code := run([]string{"--inbound-port=15003", "--outbound-port=15001", "--proxy-uid=1500", "--run-dir=" + dir, "--bootstrap-dir=/etc/envoy"},
		&stdout, &stderr, sys, filepath.Join(t.TempDir(), "none"))
	if code != 0 {
		t.Fatalf("run = %d, stderr:\n%s", code, &stderr)
	}
	if target, _ := os.Readlink(redirect.BootstrapLink(dir)); target != "/etc/envoy/"+bootstrap.BootstrapIPv4Key {
		t.Errorf("on a kernel without IPv6 the link points at %q", target)
	}
	if !strings.Contains(stdout.String(), "Envoy reads /etc/envoy/bootstrap-ipv4.yaml") {
		t.Errorf("stdout does not say which rendering Envoy reads:\n%s", &stdout)
	}
	// A kernel with IPv6: the dual-stack rendering, from the same Install that redirected.
	withIPv6, _ := fake(true, nil)
	if code := run([]string{"--inbound-port=15003", "--outbound-port=15001", "--proxy-uid=1500", "--run-dir=" + dir, "--bootstrap-dir=/etc/envoy"},
		&stdout, &stderr, withIPv6, filepath.Join(t.TempDir(), "none")); code != 0 {
		t.Fatalf("run = %d, stderr:\n%s", code, &stderr)
	}
	if target, _ := os.Readlink(redirect.BootstrapLink(dir)); target != "/etc/envoy/"+bootstrap.BootstrapKey {
		t.Errorf("on a kernel with IPv6 the link points at %q", target)
	}
	stderr.Reset()
	if code := run([]string{"--run-dir=" + dir}, &stdout, &stderr, sys, filepath.Join(t.TempDir(), "none")); code == 0 ||
		!strings.Contains(stderr.String(), "go together") {
		t.Errorf("--run-dir alone: code %d, stderr %q", code, &stderr)
	}
}

// TestDrain: `osm-init drain` POSTs /healthcheck/fail to the admin interface, then holds for
// what is left of the hold; when Envoy cannot be reached it says so and still holds.
func TestDrain(t *testing.T) {
	var posts atomic.Int32
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == healthcheckFailPath {
			posts.Add(1)
			_, _ = w.Write([]byte("OK\n"))
			return
		}
		http.Error(w, "Method "+r.Method+" not allowed, POST required.", http.StatusMethodNotAllowed)
	}))
	defer admin.Close()
	var slept time.Duration
	d := newDrainer()
	d.admin = strings.TrimPrefix(admin.URL, "http://")
	d.sleep = func(_ context.Context, left time.Duration) { slept = left }
	var stderr bytes.Buffer
	if code := d.run(context.Background(), &stderr); code != 0 || posts.Load() != 1 {
		t.Fatalf("drain = %d with %d POSTs, stderr %q", code, posts.Load(), &stderr)
	}
	if slept <= d.hold-time.Second || slept > d.hold {
		t.Errorf("held %s more, want nearly the whole hold, %s", slept, d.hold)
	}
	if d.hold <= bootstrap.UpstreamIdleTimeout {
		t.Errorf("the hold %s does not outlast the callers' upstream idle timeout %s", d.hold, bootstrap.UpstreamIdleTimeout)
	}

	admin.Close()
	slept = 0
	if code := d.run(context.Background(), &stderr); code == 0 || !strings.Contains(stderr.String(), "when asking Envoy to drain") || slept == 0 {
		t.Errorf("with Envoy gone: code %d, held %s, stderr %q", code, slept, &stderr)
	}
}
