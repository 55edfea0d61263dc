package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// cliVersion is the version the test stamps into the osm binary it builds.
const cliVersion = "v0.0.0-e2e"

// cliBuild builds the osm CLI into a temporary folder, as a user would get it.
func cliBuild(t *testing.T) string {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "osm")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin,
		"-ldflags", "-X github.com/osm-tracing/osm-tracing/cmd/osm/internal/version.Version="+cliVersion,
		"./cmd/osm")
	cmd.Dir = root
	began := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/osm: %v\n%s", err, out)
	}
	t.Logf("built osm in %s", time.Since(began).Round(time.Second))
	return bin
}

// cliRunner runs the osm binary against a cluster, with KUBECONFIG set as a user's shell
// would have it.
type cliRunner struct {
	t          *testing.T
	bin        string
	kubeconfig string
	home       string
}

// cliResult is what one osm run printed and its exit code.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return "osm " + strings.Join(r.args, " ") + " (exit " + strconv.Itoa(r.code) + ")\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// run runs osm with args and stdin, and returns what it printed; it fails the test only when
// osm could not be started.
func (c cliRunner) run(stdin string, args ...string) cliResult {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig, "HOME="+c.home)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := cliResult{args: args, stdout: out.String(), stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		c.t.Fatalf("running osm %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// ok runs osm and fails the test unless it exits 0.
func (c cliRunner) ok(args ...string) cliResult {
	c.t.Helper()
	res := c.run("", args...)
	if res.code != 0 {
		c.t.Fatalf("%s", res)
	}
	return res
}

// fails runs osm and fails the test unless it exits non-zero with every want in its stderr.
func (c cliRunner) fails(args []string, want ...string) cliResult {
	c.t.Helper()
	res := c.run("", args...)
	if res.code == 0 {
		c.t.Errorf("want a failure, got:\n%s", res)
		return res
	}
	for _, w := range want {
		if !strings.Contains(res.stderr, w) {
			c.t.Errorf("stderr lacks %q:\n%s", w, res)
		}
	}
	return res
}

// cliContains fails the test unless s holds every want.
func cliContains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

// cliWait polls cond every 250ms until it holds or ctx ends.
func cliWait(ctx context.Context, t *testing.T, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// cliRunningPod waits until a pod with the label selector is Running and Ready and returns it.
func cliRunningPod(ctx context.Context, t *testing.T, c *framework.Cluster, ns, selector string) *corev1.Pod {
	t.Helper()
	var found *corev1.Pod
	cliWait(ctx, t, "a ready pod "+selector+" in "+ns, func(ctx context.Context) (bool, error) {
		pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
				continue
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					found = p
					return true, nil
				}
			}
		}
		return false, nil
	})
	return found
}

// cliPort returns the port of a host:port or of a URL's host.
func cliPort(t *testing.T, addr string) int32 {
	t.Helper()
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		addr = u.Host
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return int32(n)
}
