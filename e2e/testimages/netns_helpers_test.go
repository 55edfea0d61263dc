package testimages

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// waitOK polls url from ns with the test app until it answers 200.
func waitOK(t *testing.T, ns *netns, testapp, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := ns.run(t, testapp, "get", "--timeout", "2s", url)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered: %v\n%s", url, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// netns is a network namespace the test created, deleted at its end.
type netns struct{ name string }

func newNetns(t *testing.T, name string) *netns {
	t.Helper()
	mustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	n := &netns{name: name}
	n.mustRun(t, "ip", "link", "set", "lo", "up")
	return n
}

// run runs a command in the namespace and returns its combined output.
func (n *netns) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name}, args...)...).CombinedOutput()
	return string(out), err
}

func (n *netns) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := n.run(t, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// client runs the test app as an application would, uid 65532, and returns its stdout.
func (n *netns) client(t *testing.T, testapp string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name, "setpriv", "--reuid=65532", "--regid=65532",
		"--clear-groups", "--", testapp}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("testapp %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// shareableDir is a new folder every user may read (the programs run as non-root users).
func shareableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "testimages-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// proc is a program the test started in a namespace, as uid, with no capabilities.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *framework.SyncBuffer
	done chan struct{}
	code int
}

// start runs a program of the machine's file system in the namespace, as uid.
func (n *netns) start(t *testing.T, name string, uid int, env []string, bin string, args ...string) *proc {
	t.Helper()
	id := strconv.Itoa(uid)
	// ip netns exec and setpriv both exec: the process is the program itself, for signals.
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name, "setpriv", "--reuid=" + id, "--regid=" + id,
		"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return startCmd(t, name, cmd)
}

// startImage runs an image's program in the namespace as a container runtime would, short of
// the other namespaces and cgroups: chrooted into the image's root, mounted read-only (as
// readOnlyRootFilesystem), with an empty tmpfs on /tmp, the binds (machine folder, path in
// the image) read-only, only the image's environment plus env, as the image's user (so with
// no capabilities), running argv (the entrypoint and cmd when nil), whose first word is
// looked up in the image's PATH.
func (n *netns) startImage(t *testing.T, name, root string, cfg *v1.ConfigFile, env []string, binds [][2]string, argv []string) *proc {
	t.Helper()
	if argv == nil {
		argv = append(slices.Clone(cfg.Config.Entrypoint), cfg.Config.Cmd...)
	}
	user := cfg.Config.User
	if !strings.Contains(user, ":") {
		user += ":" + user
	}
	chroot, err := exec.LookPath("chroot")
	if err != nil {
		t.Fatal(err)
	}
	script := `set -e
root=$1; shift
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
while [ "$1" != -- ]; do
  mount --bind "$1" "$root$2"
  mount -o remount,bind,ro "$root$2"
  shift 2
done
shift
exec "$@"`
	args := []string{"netns", "exec", n.name, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", root}
	for _, b := range binds {
		args = append(args, b[0], b[1])
	}
	args = append(args, "--", "env", "-i")
	args = append(args, cfg.Config.Env...)
	args = append(args, env...)
	args = append(args, chroot, "--userspec="+user, root)
	// ip, unshare, sh, env and chroot all exec: the process is the program, for signals.
	return startCmd(t, name, exec.Command("ip", append(args, argv...)...))
}

func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	cmd.Dir = "/"
	p := &proc{name: name, cmd: cmd, out: &framework.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, p.output())
		}
	})
	return p
}

func (p *proc) output() string { return p.out.String() }

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

// wait waits for the program to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not exit", p.name)
		return -1
	}
}

// waitEvent waits for a JSON event line with the given event name and fields.
func (p *proc) waitEvent(t *testing.T, event string, fields map[string]any) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, ev := range p.events() {
			if ev["event"] == event && matches(ev, fields) {
				return ev
			}
		}
		select {
		case <-p.done:
			// One last look: the event may have come with the exit.
			for _, ev := range p.events() {
				if ev["event"] == event && matches(ev, fields) {
					return ev
				}
			}
			t.Fatalf("%s exited (%d) without a %s event with %v:\n%s", p.name, p.code, event, fields, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s logged no %s event with %v:\n%s", p.name, event, fields, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func matches(ev, fields map[string]any) bool {
	for k, v := range fields {
		if fmt.Sprint(ev[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// events are the JSON lines of the output; other lines are skipped.
func (p *proc) events() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.output()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out
}
