package testimages

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// initImage is osm-init's image unpacked, with the mount points a container runtime and the
// kubelet add (/proc, /dev/termination-log, the run volume), and the machine's side of the
// termination log and of the run volume, an emptyDir the envoy container mounts too.
type initImage struct {
	root, terminationLog, runDir string
	launcher                     string
}

func newInitImage(t *testing.T, archive Archive) *initImage {
	t.Helper()
	root, cfg := imageRoot(t, archive)
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != InitPath {
		t.Fatalf("the init image's entrypoint is %q, want [%s]", cfg.Config.Entrypoint, InitPath)
	}
	i := &initImage{root: root, runDir: shareableDir(t), launcher: launcher(t)}
	for _, d := range []string{"proc", "dev", inject.RunDir} {
		if err := os.MkdirAll(filepath.Join(i.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(i.root, "dev", "termination-log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	i.terminationLog = filepath.Join(t.TempDir(), "termination-log")
	return i
}

// initRun is what one run of osm-init did.
type initRun struct {
	out         string // stdout and stderr
	code        int
	termination string // the termination log's content
}

// The launcher's /proc modes: procfs, as a container runtime mounts it, or an empty tmpfs,
// which is what a kernel without IPv6 shows a program that looks for /proc/net/if_inet6; and
// its capability modes: the injected container's (NET_ADMIN alone), or none.
const (
	procfs      = "procfs"
	procNoV6    = "no-ipv6"
	capNetAdmin = "net_admin"
	capNone     = "none"
)

// run runs the image's entrypoint with args in ns as the kubelet would run the injected
// container (uid 0, the capabilities of capMode, a read-only root, /proc as procMode says:
// see e2e/testimages/launcher), with an empty termination log and the run volume mounted.
func (i *initImage) run(t *testing.T, ns *netns, procMode, capMode string, args []string) initRun {
	t.Helper()
	if err := os.WriteFile(i.terminationLog, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	argv := append([]string{"netns", "exec", ns.name, "unshare", "--mount", "--propagation", "private", "--",
		i.launcher, i.root, procMode, capMode, "--bind=" + i.terminationLog + ":/dev/termination-log",
		"--bind=" + i.runDir + ":" + inject.RunDir, InitPath}, args...)
	cmd := exec.CommandContext(ctx, "ip", argv...)
	out, err := cmd.CombinedOutput()
	r := initRun{out: string(out)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("osm-init: %v\n%s", err, out)
	}
	if r.code == 125 {
		t.Fatalf("the launcher failed:\n%s", out)
	}
	data, err := os.ReadFile(i.terminationLog)
	if err != nil {
		t.Fatal(err)
	}
	r.termination = string(data)
	return r
}

// mustRun runs osm-init as the injected container, with the injected container's command
// line for the pod's traffic, and returns its output; it must succeed.
func (i *initImage) mustRun(t *testing.T, ns *netns, traffic inject.Traffic) string {
	t.Helper()
	c := inject.Parts(&corev1.Pod{}, bootstrap.Generated{}, inject.DefaultProxyConfig(), traffic).InitContainers[0]
	if c.Name != inject.InitContainerName || !slices.Equal(c.Command, []string{InitPath}) {
		t.Fatalf("the injected %s runs %q, not the image's %s", c.Name, c.Command, InitPath)
	}
	r := i.run(t, ns, procfs, capNetAdmin, c.Args)
	if r.code != 0 || r.termination != "" {
		t.Fatalf("osm-init %s exited %d, termination log %q:\n%s", strings.Join(c.Args, " "), r.code, r.termination, r.out)
	}
	return r.out
}

// checkInitAlone runs osm-init where it must not, or cannot, do everything: in a namespace of
// its own (a veth pair whose far end nothing answers on, and an echo server on the outbound
// port standing in for Envoy, so that a redirected connection is one that is echoed).
func checkInitAlone(t *testing.T, img *initImage, testapp, suffix string) {
	ns := newNetns(t, "ti-init-"+suffix)
	ns.mustRun(t, "ip", "link", "add", "tia"+suffix, "type", "veth", "peer", "name", "tib"+suffix)
	ns.mustRun(t, "ip", "addr", "add", "10.9.0.1/24", "dev", "tia"+suffix)
	ns.mustRun(t, "ip", "link", "set", "tia"+suffix, "up")
	ns.mustRun(t, "ip", "link", "set", "tib"+suffix, "up")
	echo := ns.start(t, "echo", 65532, nil, testapp, "serve", "--tcp-port", "15001")
	echo.waitEvent(t, "start", nil)
	redirected := func(t *testing.T) {
		t.Helper()
		out, err := ns.run(t, "setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "--", testapp, "dial", "--timeout", "5s",
			"--message", "redirected", "10.9.0.9:80")
		if err != nil || out != "redirected\n" {
			t.Errorf("a connection to 10.9.0.9:80 did not reach the outbound port: %v\n%s", err, out)
		}
	}
	tables := func(t *testing.T, want string) {
		t.Helper()
		if got := ns.mustRun(t, "nft", "list", "tables"); got != want {
			t.Errorf("nft list tables = %q, want %q", got, want)
		}
	}
	failed := func(t *testing.T, r initRun, cause string) {
		t.Helper()
		if r.code != 1 || !strings.Contains(r.out, "osm-init: "+cause) {
			t.Errorf("osm-init exited %d, want 1 with %q:\n%s", r.code, cause, r.out)
		}
		if !strings.HasPrefix(r.termination, "osm-init: ") || !strings.Contains(r.termination, cause) || strings.Count(r.termination, "\n") != 1 {
			t.Errorf("the termination log is %q, want one line with %q", r.termination, cause)
		}
	}
	args := redirect.Default().Args() // the redirect alone: no run volume

	t.Run("without NET_ADMIN", func(t *testing.T) {
		r := img.run(t, ns, procfs, capNone, args)
		failed(t, r, "the IPv4 redirect could not be installed: ")
		if !strings.Contains(r.out, "operation not permitted (osm-init needs CAP_NET_ADMIN") {
			t.Errorf("the cause does not say what is missing:\n%s", r.out)
		}
		tables(t, "")
	})

	t.Run("a kernel without IPv6", func(t *testing.T) {
		r := img.run(t, ns, procNoV6, capNetAdmin, args)
		if r.code != 0 || !strings.Contains(r.out, "osm-init: IPv4 traffic redirected to Envoy") ||
			!strings.Contains(r.out, "osm-init: IPv6 not redirected: this kernel has no IPv6 (no /proc/net/if_inet6)") {
			t.Errorf("osm-init exited %d:\n%s", r.code, r.out)
		}
		tables(t, "table ip osm_proxy\n")
		redirected(t)
		ns.mustRun(t, "nft", "delete", "table", "ip", "osm_proxy")
	})

	// The kernel is made to refuse the IPv6 table, as a kernel without IPv6 nat would: another
	// process owns a table of that name (flags owner, Linux 5.12), so nf_tables refuses any
	// transaction that touches it. osm-init does not tell one refusal from another.
	owner := ownIPv6Table(t, ns)
	t.Run("IPv6 refused, the pod has a global IPv6 address", func(t *testing.T) {
		ns.mustRun(t, "ip", "-6", "addr", "add", "fd09::1/64", "dev", "tia"+suffix, "nodad")
		r := img.run(t, ns, procfs, capNetAdmin, args)
		failed(t, r, "the pod has IPv6 address fd09::1 but the IPv6 redirect could not be installed")
		if !strings.Contains(r.termination, "its IPv6 traffic would bypass Envoy") {
			t.Errorf("the termination log does not say why: %q", r.termination)
		}
		tables(t, "table ip6 osm_proxy\n") // the owner's alone: IPv4's was not installed either
		ns.mustRun(t, "ip", "-6", "addr", "del", "fd09::1/64", "dev", "tia"+suffix)
	})
	t.Run("IPv6 refused, no global IPv6 address", func(t *testing.T) {
		r := img.run(t, ns, procfs, capNetAdmin, args)
		if r.code != 0 || r.termination != "" || !strings.Contains(r.out, "osm-init: IPv4 traffic redirected to Envoy") ||
			!strings.Contains(r.out, "osm-init: warning: the IPv6 redirect could not be installed (") ||
			!strings.Contains(r.out, "the pod has no global IPv6 address, so only IPv4 is redirected") {
			t.Errorf("osm-init exited %d, termination log %q:\n%s", r.code, r.termination, r.out)
		}
		tables(t, "table ip6 osm_proxy\ntable ip osm_proxy\n")
		redirected(t)
	})
	owner()
}

// ownIPv6Table makes an nft process own the table ip6 osm_proxy in ns, until the function it
// returns is called (or the test ends).
func ownIPv6Table(t *testing.T, ns *netns) func() {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns.name, "nft", "-i")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = stdin.Close()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	if _, err := io.WriteString(stdin, "add table ip6 osm_proxy { flags owner; }\n"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if out := ns.mustRun(t, "nft", "list", "tables"); strings.Contains(out, "table ip6 osm_proxy") {
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatal("nft -i did not create the owned table")
		}
	}
}
