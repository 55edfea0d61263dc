package framework

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// ShellCommandTimeout bounds one command a Shell runs.
const ShellCommandTimeout = 3 * time.Minute

// Commands are the osm and osm-injector binaries a test built, as a user gets them.
type Commands struct {
	Dir, OSM, Injector string
}

// BuildCommands builds ./cmd/osm and ./cmd/osm-injector into a temporary folder.
func BuildCommands(t *testing.T) Commands {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./cmd/osm", "./cmd/osm-injector")
	cmd.Dir = root
	began := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/osm ./cmd/osm-injector: %v\n%s", err, out)
	}
	t.Logf("built osm and osm-injector in %s", time.Since(began).Round(time.Second))
	return Commands{Dir: dir, OSM: filepath.Join(dir, "osm"), Injector: filepath.Join(dir, "osm-injector")}
}

// Shell runs commands through `bash -c` as a user's shell would: KUBECONFIG names the
// cluster, PATH leads to the test's osm and the cached kubectl, HOME is a fresh folder
// (kubectl's and Helm's caches), plus the environment the test adds.
type Shell struct {
	bash string
	env  []string
	dir  string
}

// NewShell is a shell for cluster c with the commands cmds; env ("NAME=value") is added.
func NewShell(t *testing.T, cmds Commands, c *Cluster, env ...string) *Shell {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("the shell needs bash: %v", err)
	}
	env = append([]string{
		"KUBECONFIG=" + c.KubeconfigPath,
		"PATH=" + cmds.Dir + string(os.PathListSeparator) + filepath.Dir(c.Binaries.Kubectl) +
			string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
	}, env...)
	set := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		set = append(set, name)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(set, name) {
			env = append(env, kv)
		}
	}
	return &Shell{bash: bash, env: env, dir: t.TempDir()}
}

// Command is script as a command of the shell, not started.
func (s *Shell) Command(ctx context.Context, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.bash, "-c", script)
	cmd.Env = s.env
	cmd.Dir = s.dir
	return cmd
}

// Run runs a script and returns what it printed and its exit code (-1 when it could not run).
func (s *Shell) Run(ctx context.Context, script string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(ctx, ShellCommandTimeout)
	defer cancel()
	cmd := s.Command(ctx, script)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		code = -1
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// OK runs a script and fails the test unless it exits 0. It logs the command and its output
// and returns the standard output.
func (s *Shell) OK(t testing.TB, script string) string {
	t.Helper()
	out, errOut, code := s.Run(t.Context(), script)
	t.Logf("$ %s\n%s%s", script, out, errOut)
	if code != 0 {
		t.Fatalf("exit status %d:\n$ %s\nstdout:\n%s\nstderr:\n%s", code, script, out, errOut)
	}
	return out
}

// Eventually runs a script until it exits 0 with an output matching every pattern (regular
// expressions), or ctx ends. It returns the last output.
func (s *Shell) Eventually(ctx context.Context, t testing.TB, script string, patterns ...string) string {
	t.Helper()
	var out, errOut string
	var code int
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		out, errOut, code = s.Run(ctx, script)
		return code == 0 && AllMatch(out, patterns), nil
	})
	if err != nil {
		t.Fatalf("waiting for `%s` to succeed with %q: %v; last exit status %d\nstdout:\n%s\nstderr:\n%s",
			script, patterns, err, code, out, errOut)
	}
	t.Logf("$ %s\n%s%s", script, out, errOut)
	return out
}

// AllMatch reports whether s matches every regular expression.
func AllMatch(s string, patterns []string) bool {
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(s) {
			return false
		}
	}
	return true
}

// Background is a process a test runs beside it, in its own process group.
type Background struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

// StartBackground starts cmd in its own process group, from a goroutine locked to its OS
// thread until the process ends, so that Pdeathsig (SIGKILL when the thread that started it
// ends) only fires when the test binary dies. The test stops it with Stop (or t.Cleanup).
func StartBackground(t testing.TB, cmd *exec.Cmd) *Background {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Background{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine, after the process
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	return p
}

// Exited returns an error once the process has ended.
func (p *Background) Exited() error {
	select {
	case <-p.done:
		if p.err == nil {
			return errors.New("exited with status 0")
		}
		return p.err
	default:
		return nil
	}
}

// Stop sends SIGTERM to the process group, then SIGKILL after 10s, and waits.
func (p *Background) Stop() {
	p.once.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
	})
}
