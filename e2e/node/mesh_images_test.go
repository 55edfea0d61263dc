package node

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/e2e/testimages"
	"github.com/osm-tracing/osm-tracing/manifests"
)

// nodeImages builds the images the node runs into .cache/images at the repository root and
// returns their archives: the test images (e2e/testimages: the pause, the Envoy stand-in, the
// test application and Jaeger) and osm-injector's and osm-init's own images, built by
// hack/image as `make image` does, for this machine's platform only.
func nodeImages(t *testing.T) []string {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := framework.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, ".cache", "images")
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	built, err := testimages.Build(ctx, testimages.Options{OutDir: out, Jaeger: bins.Jaeger, Logf: t.Logf})
	if err != nil {
		t.Fatalf("building the test images: %v", err)
	}
	archives := make([]string, 0, len(built)+1)
	for _, a := range built {
		archives = append(archives, a.Path)
	}
	cmd := exec.CommandContext(ctx, "go", "run", "./hack/image", "-out", out, "-platforms", "linux/"+runtime.GOARCH)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./hack/image: %v\n%s", err, msg)
	}
	img, err := manifests.DefaultInjectorImage()
	if err != nil {
		t.Fatal(err)
	}
	initImg, err := manifests.DefaultInitImage()
	if err != nil {
		t.Fatal(err)
	}
	archives = append(archives, filepath.Join(out, img.Archive()), filepath.Join(out, initImg.Archive()))
	t.Logf("images built in %s: %v", time.Since(began).Round(time.Millisecond), archives)
	return archives
}
