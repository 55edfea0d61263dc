package framework

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// KubectlTimeout bounds one Kubectl call.
const KubectlTimeout = 2 * time.Minute

// Kubectl runs the cached kubectl against the cluster as the admin and returns its output.
// err includes stderr when kubectl fails. It works in t.Cleanup too (to dump state).
func (c *Cluster) Kubectl(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), KubectlTimeout)
	defer cancel()
	return c.KubectlContext(ctx, args...)
}

// KubectlContext is Kubectl with a context of the caller's.
func (c *Cluster) KubectlContext(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	full := append([]string{"--kubeconfig=" + c.KubeconfigPath}, args...)
	cmd := exec.CommandContext(ctx, c.Binaries.Kubectl, full...)
	cmd.Dir = c.Dir
	cmd.Env = childEnv(nil)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	if err := Spawn(cmd); err != nil {
		return "", "", fmt.Errorf("when starting kubectl: %w", err)
	}
	err = cmd.Wait()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), err
}
