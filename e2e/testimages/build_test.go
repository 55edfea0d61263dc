package testimages

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
)

// TestArchives checks each archive as containerd will read it: the name in index.json, the
// config (entrypoint, cmd, user, environment) and the program in the layer.
func TestArchives(t *testing.T) {
	archives, _ := builtImages(t)
	for _, c := range []struct {
		ref, tag        string
		entrypoint, cmd []string
		user            string
		env             []string
		program         string // a static Go program at this path
	}{
		{PauseImage, "v1", []string{"/pause"}, nil, "65535:65535", nil, "pause"},
		{EnvoyStandInImage, "v1", []string{"/usr/local/bin/envoy"}, []string{"-c", "/etc/envoy/bootstrap.yaml"}, "1500:1500",
			[]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "usr/local/bin/envoy"},
		{TestAppImage, "v1", []string{"/testapp"}, []string{"serve", "--port", "8080"}, "65532:65532", []string{"PATH=/"}, "testapp"},
		{InitImage, "v1", []string{"/osm-init"}, nil, "65532:65532", nil, "osm-init"},
		{JaegerImage, "2.13.0", []string{"/cmd/jaeger/jaeger-linux"}, nil, "10001", []string{"JAEGER_LISTEN_HOST=0.0.0.0"}, "cmd/jaeger/jaeger-linux"},
	} {
		t.Run(c.ref, func(t *testing.T) {
			a, ok := archives[c.ref]
			if !ok {
				t.Fatalf("Build wrote no archive for %s", c.ref)
			}
			entry, img := openArchive(t, a.Path)
			want := map[string]string{ociarchive.AnnotationImageName: ContainerdName(c.ref), ociarchive.AnnotationRefName: c.tag}
			if diff := cmp.Diff(want, entry.Annotations); diff != "" {
				t.Errorf("index.json annotations (-want +got):\n%s", diff)
			}
			if entry.MediaType != types.OCIImageIndex {
				t.Errorf("index.json lists a %s", entry.MediaType)
			}
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.OS != "linux" || cfg.Architecture != platform().Architecture {
				t.Errorf("config for %s/%s", cfg.OS, cfg.Architecture)
			}
			got := []any{cfg.Config.Entrypoint, cfg.Config.Cmd, cfg.Config.User, cfg.Config.Env}
			if diff := cmp.Diff([]any{c.entrypoint, c.cmd, c.user, c.env}, got); diff != "" {
				t.Errorf("entrypoint, cmd, user, env (-want +got):\n%s", diff)
			}
			if c.program != "" {
				checkStatic(t, layerFile(t, img, c.program))
			}
			if c.ref == JaegerImage && !strings.Contains(cfg.Config.Labels["org.opencontainers.image.description"], "BUILT FROM SOURCE") {
				t.Errorf("the Jaeger image's description does not say it is a source build: %q", cfg.Config.Labels)
			}
		})
	}
}

// layerFile returns the file at name in the image's layer, after checking that it is a
// root-owned executable stamped with the fixed time.
func layerFile(t *testing.T, img v1.Image, name string) []byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("no %s in the layer", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(created) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %s, owner %d:%d", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		if h.Name == name {
			if h.Typeflag != tar.TypeReg || h.Mode != 0o755 {
				t.Errorf("%s: type %c mode %o, want a 0755 file", name, h.Typeflag, h.Mode)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

// checkStatic checks that a program runs without a libc: images from scratch have none.
func checkStatic(t *testing.T, data []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("dynamically linked: the image has no libc")
		}
	}
}

// TestBuildIsCached: a second Build with the same inputs rewrites no archive; a changed input
// rewrites that image's archive only, with new content.
func TestBuildIsCached(t *testing.T) {
	archives, o := builtImages(t)
	before := map[string]os.FileInfo{}
	for ref, a := range archives {
		info, err := os.Stat(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		before[ref] = info
	}
	// Make a change of mtime visible even on coarse file system clocks.
	time.Sleep(20 * time.Millisecond)
	again, err := Build(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		info, err := os.Stat(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Cached || !info.ModTime().Equal(before[a.Ref].ModTime()) {
			t.Errorf("%s: second build cached=%v, mtime %s then %s", a.Ref, a.Cached, before[a.Ref].ModTime(), info.ModTime())
		}
	}

	// Another Jaeger binary makes a new Jaeger image and leaves the others as they are; going
	// back rewrites it again. Played in a folder of its own, with a small program standing in
	// for Jaeger (pause): compressing the real one takes seconds, tens of them with -race.
	small := filepath.Join(o.OutDir, "bin", platform().OS+"-"+platform().Architecture, "pause")
	data, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(t.TempDir(), "jaeger")
	if err := os.WriteFile(changed, append(data, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	base := Options{OutDir: t.TempDir(), Jaeger: small, anyJaegerBinary: true, Images: []string{JaegerImage, PauseImage}}
	if _, err := Build(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	o2 := base
	o2.Jaeger = changed
	third, err := Build(t.Context(), o2)
	if err != nil {
		t.Fatal(err)
	}
	if third[0].Cached || !third[1].Cached {
		t.Errorf("after a change of the Jaeger binary: jaeger cached=%v, pause cached=%v; want false, true", third[0].Cached, third[1].Cached)
	}
	// And back: the archive is rewritten again, identical to the first one.
	fourth, err := Build(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	if fourth[0].Cached {
		t.Error("going back to the first Jaeger binary kept the changed archive")
	}
	if sum, err := fileDigest(fourth[0].Path); err != nil || sum != mustStamp(t, fourth[0].Path).Archive {
		t.Errorf("the stamp does not match the archive: %v", err)
	}
}

func mustStamp(t *testing.T, archive string) stamp {
	t.Helper()
	s, err := readStamp(archive + ".inputs")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBuildIsReproducible: the same inputs give the same bytes, in another folder.
func TestBuildIsReproducible(t *testing.T) {
	archives, o := builtImages(t)
	o.OutDir, o.Images = t.TempDir(), []string{PauseImage, InitImage}
	again, err := Build(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		first, err := fileDigest(archives[a.Ref].Path)
		if err != nil {
			t.Fatal(err)
		}
		if second, err := fileDigest(a.Path); err != nil || second != first {
			t.Errorf("%s: %s then %s (%v)", a.Ref, first, second, err)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	for name, c := range map[string]struct {
		o    Options
		want string
	}{
		"no folder":     {Options{}, "no output folder"},
		"unknown image": {Options{OutDir: t.TempDir(), Images: []string{"osm-tracing.test/nginx:v1"}}, `no image "osm-tracing.test/nginx:v1"; there are`},
		"no jaeger":     {Options{OutDir: t.TempDir(), Images: []string{JaegerImage}}, "no Jaeger binary"},
		"missing jaeger": {Options{OutDir: t.TempDir(), Images: []string{JaegerImage}, Jaeger: "/nonexistent/jaeger"},
			"no such file or directory (hack/testbin.sh builds it: make testbin)"},
		"not jaeger": {Options{OutDir: t.TempDir(), Images: []string{JaegerImage}, Jaeger: os.Args[0]},
			`was built from github.com/jaegertracing/jaeger ""; jaegertracing/jaeger:2.13.0 needs v1.76.0`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Build(t.Context(), c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestContainerdName(t *testing.T) {
	for ref, want := range map[string]string{
		JaegerImage:                              "docker.io/jaegertracing/jaeger:2.13.0",
		"busybox:1":                              "docker.io/library/busybox:1",
		PauseImage:                               PauseImage,
		"ghcr.io/osm-tracing/osm-injector:0.1.0": "ghcr.io/osm-tracing/osm-injector:0.1.0",
		"localhost/x:1":                          "localhost/x:1",
		"registry:5000/x:1":                      "registry:5000/x:1",
	} {
		if got := ContainerdName(ref); got != want {
			t.Errorf("ContainerdName(%q) = %q, want %q", ref, got, want)
		}
	}
}
