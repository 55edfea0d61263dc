package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// nodeLockPath is the lock one node per machine holds. The empty file stays after the run:
// removing it would let a waiter lock an unlinked file while a third process creates a new
// one.
const nodeLockPath = "/run/osm-e2e-node.lock"

// nodeCommands are the programs of the Debian packages a real node needs (see
// hack/node-deps.sh).
var nodeCommands = []string{"containerd", "containerd-shim-runc-v2", "ctr", "runc", "nft", "ip", "unshare", "mount"}

// cniPlugins are the CNI plugins the node's configuration uses.
var cniPlugins = []string{"bridge", "host-local", "loopback"}

// cniBinDirs are where distributions install the CNI plugins: Debian's
// containernetworking-plugins, then the upstream release's folder.
var cniBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// RequireNode fails the test (or skips it with OSM_E2E_SKIP) when a real node cannot run
// here: kubelet or kube-proxy not built, not root, a program or CNI plugin missing. Start
// checks this too; a test calls it first to fail before it prepares anything (images).
func RequireNode(t testing.TB) {
	t.Helper()
	bins := findBinaries(t)
	requireFiles(t, "k8s", bins.Kubelet, bins.KubeProxy)
	requireNodeHost(t)
}

// requireNodeHost fails the test (or skips it with OSM_E2E_SKIP) when this machine cannot
// run a real node: not root, or a program or CNI plugin missing.
func requireNodeHost(t testing.TB) {
	t.Helper()
	var problems, fixes []string
	if os.Geteuid() != 0 {
		problems = append(problems, "it is not running as root (a real node makes a bridge, nftables rules, mounts and cgroups)")
		fixes = append(fixes, "run the tests as root")
	}
	var missing []string
	for _, cmd := range nodeCommands {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = append(missing, cmd)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "the programs "+strings.Join(missing, ", ")+" are not on PATH")
	}
	if _, err := cniBinDir(); err != nil {
		problems = append(problems, "no folder holds "+err.Error())
	}
	if len(problems) == 0 {
		return
	}
	if len(problems) > len(fixes) {
		fixes = append(fixes, "install the Debian packages with hack/node-deps.sh (as root: containerd runc "+
			"containernetworking-plugins iptables nftables iproute2 conntrack)")
	}
	msg := fmt.Sprintf("framework: a real node (Options.Node) cannot run here: %s. To run it, %s; or set %s=1 to skip e2e tests",
		strings.Join(problems, "; "), strings.Join(fixes, ", and "), EnvSkip)
	if envTrue(EnvSkip) {
		t.Skip(msg)
	}
	t.Fatal(msg)
}

// cniBinDir is the first of cniBinDirs holding every plugin of cniPlugins.
func cniBinDir() (string, error) {
	for _, dir := range cniBinDirs {
		ok := true
		for _, p := range cniPlugins {
			if info, err := os.Stat(filepath.Join(dir, p)); err != nil || info.IsDir() {
				ok = false
			}
		}
		if ok {
			return dir, nil
		}
	}
	return "", fmt.Errorf("the CNI plugins %s in one of %s", strings.Join(cniPlugins, ", "), strings.Join(cniBinDirs, " or "))
}

// nodeLock is the flock of nodeLockPath, held from before the node starts until its
// teardown ends; the kernel releases it when the test binary dies.
type nodeLock struct {
	f *os.File
}

// lockNode waits, as long as the test may run, until no other test binary runs a node.
func lockNode(t testing.TB) *nodeLock {
	t.Helper()
	f, err := os.OpenFile(nodeLockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("framework: when opening the node lock %s: %v", nodeLockPath, err)
	}
	began := time.Now()
	logged := false
	err = wait.PollUntilContextCancel(t.Context(), 500*time.Millisecond, true, func(context.Context) (bool, error) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err == nil, err
		}
		if !logged {
			holder, _ := os.ReadFile(nodeLockPath)
			t.Logf("framework: another test binary (pid %s) runs a real node on this machine; waiting for %s",
				strings.TrimSpace(string(holder)), nodeLockPath)
			logged = true
		}
		return false, nil
	})
	switch {
	case err == nil:
	case t.Context().Err() != nil:
		_ = f.Close()
		t.Fatalf("framework: gave up waiting for the node lock %s after %s", nodeLockPath, time.Since(began).Round(time.Second))
	default:
		_ = f.Close()
		t.Fatalf("framework: when locking %s: %v", nodeLockPath, err)
	}
	if logged {
		t.Logf("framework: got the node lock after %s", time.Since(began).Round(time.Millisecond))
	}
	// The holder's pid, for the message of the next waiter.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &nodeLock{f: f}
}

// release ends the lock.
func (l *nodeLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

// teardownOnSignal runs teardown when the test binary gets SIGINT or SIGTERM (Ctrl-C, a CI
// cancel), then exits: the testing package runs no cleanup then, and containers, mounts and
// the bridge outlive the processes that Pdeathsig kills. The returned function stops
// watching.
func teardownOnSignal(teardown func()) (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "framework: %v: tearing the real node down before exiting\n", sig)
			teardown()
			os.Exit(1)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// command runs a program with a bounded time and returns its standard output; the error
// names the command and carries its standard error.
func command(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = childEnv(nil)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := Spawn(cmd); err != nil {
		return "", fmt.Errorf("when starting %s: %w", name, err)
	}
	if err := cmd.Wait(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// makeSharedMount bind-mounts dir onto itself and makes it a shared mount, so that what a
// process in another mount namespace (kubelet's) mounts under it shows on the machine too.
func makeSharedMount(dir string) error {
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("when bind-mounting %s onto itself: %w", dir, err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_SHARED, ""); err != nil {
		return fmt.Errorf("when making %s a shared mount: %w", dir, err)
	}
	return nil
}

// mkdirs makes folders, private to root.
func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("when making %s: %w", d, err)
		}
	}
	return nil
}

// writeFile writes a configuration file, private to root.
func writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("when writing %s: %w", path, err)
	}
	return nil
}

// readTrimmed is the content of a small file (a sysctl, a pid) without surrounding space, or
// "" when it cannot be read.
func readTrimmed(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
