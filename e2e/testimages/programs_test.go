package testimages

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrograms runs the images' programs as they are in the layers: pause exits 0 at
// SIGTERM; the stand-in refuses a flag Envoy does not know, with a message that says so.
func TestPrograms(t *testing.T) {
	archives, _ := builtImages(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, img := openArchive(t, archives[PauseImage].Path)
	pause := exec.Command(write("pause", layerFile(t, img, "pause")))
	if err := pause.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let it subscribe to the signal
	if err := pause.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := pause.Wait(); err != nil {
		t.Errorf("pause at SIGTERM: %v, want exit 0", err)
	}

	_, img = openArchive(t, archives[EnvoyStandInImage].Path)
	envoy := write("envoy", layerFile(t, img, "usr/local/bin/envoy"))
	out, err := exec.Command(envoy, "-c", "/nonexistent.yaml", "--base-id", "1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "flag provided but not defined: -base-id") {
		t.Errorf("envoy --base-id: %v\n%s", err, out)
	}
	out, err = exec.Command(envoy, "-c", "/nonexistent.yaml").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"event":"error"`) || !strings.Contains(string(out), "/nonexistent.yaml") {
		t.Errorf("envoy with a missing bootstrap: %v\n%s", err, out)
	}
}
