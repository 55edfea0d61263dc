package testimages

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// TestArchivesImportIntoContainerd imports every archive with `ctr -n k8s.io images import`
// into a containerd of the test's own (its root, state and sockets in a temporary folder, the
// CRI plugin off, so that it touches nothing of the machine's), and checks that each image is
// listed under the name the kubelet looks up, complete and unpacked. It needs root and the
// Debian package containerd; it runs no container.
func TestArchivesImportIntoContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	for _, tool := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on this machine (Debian package containerd)", tool)
		}
	}
	archives, _ := builtImages(t)
	dir := shareableDir(t)
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[debug]
  address = %[5]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "debug.sock"))
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var log framework.SyncBuffer
	cmd := exec.Command("containerd", "--config", configPath)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// The overlay snapshots are not mounted without a container; unmount anything left
		// under the folder all the same before it is removed.
		_ = exec.Command("umount", "-R", filepath.Join(dir, "root")).Run()
		if t.Failed() {
			t.Logf("containerd's log:\n%s", log.String())
		}
	})
	ctr := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
		return string(out), err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := ctr("version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not start:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, a := range archives {
		// One archive per call: ctr ignores further arguments.
		if out, err := ctr("images", "import", a.Path); err != nil || !strings.Contains(out, "unpacking "+a.Name) {
			t.Errorf("ctr images import %s: %v\n%s", a.Path, err, out)
		}
	}
	out, err := ctr("images", "check")
	if err != nil {
		t.Fatalf("ctr images check: %v\n%s", err, out)
	}
	for _, a := range archives {
		found := false
		for line := range strings.SplitSeq(out, "\n") {
			fields := strings.Fields(line)
			if len(fields) > 0 && fields[0] == a.Name {
				found = true
				if !strings.Contains(line, "complete") || !strings.HasSuffix(strings.TrimSpace(line), "true") {
					t.Errorf("%s is not complete and unpacked: %s", a.Name, line)
				}
			}
		}
		if !found {
			t.Errorf("containerd does not list %s:\n%s", a.Name, out)
		}
	}
}
