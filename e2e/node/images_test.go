package node

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// probeImage runs e2e/node/probe: the checks' own server and client.
	probeImage = "osm-tracing.test/probe:v1"
	// probePackage is the probe's package, built as a static binary.
	probePackage = "github.com/osm-tracing/osm-tracing/e2e/node/probe"
	// imageNameAnnotation names an image of an OCI layout for `ctr images import`.
	imageNameAnnotation = "io.containerd.image.name"
)

// buildProbeArchive compiles the probe and writes an OCI image archive of it, probeImage, and
// returns the archive's path.
func buildProbeArchive(ctx context.Context, t testing.TB, dir string) string {
	t.Helper()
	began := time.Now()
	bin := filepath.Join(dir, "probe")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, probePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", probePackage, err, out)
	}
	layer, err := fileLayer(bin, "probe")
	if err != nil {
		t.Fatalf("the probe's layer: %v", err)
	}
	img, err := imageOf(layer, []string{"/probe"})
	if err != nil {
		t.Fatalf("the probe image: %v", err)
	}
	layoutDir := filepath.Join(dir, "layout")
	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatalf("the OCI layout: %v", err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{imageNameAnnotation: probeImage})); err != nil {
		t.Fatalf("adding %s to the OCI layout: %v", probeImage, err)
	}
	archive := filepath.Join(dir, "probe.oci.tar")
	if err := tarFolder(layoutDir, archive); err != nil {
		t.Fatalf("writing %s: %v", archive, err)
	}
	t.Logf("node: built the probe image in %s", time.Since(began).Round(time.Millisecond))
	return archive
}

// imageOf is a linux image of one layer with the given entrypoint, run as root (reading the
// Pod's files and resolving names need nothing more).
func imageOf(layer v1.Layer, entrypoint []string) (v1.Image, error) {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err := mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Config:       v1.Config{Entrypoint: entrypoint, WorkingDir: "/"},
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(base, layer)
}

// fileLayer is a layer holding the file at /name, mode 0755.
func fileLayer(path, name string) (v1.Layer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	content := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// tarFolder writes the files under dir into the tar file out.
func tarFolder(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: filepath.ToSlash(rel) + "/", Mode: 0o755})
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("when archiving %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
