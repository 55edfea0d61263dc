package testimages

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// The images are built once for all tests of the package, into sharedDir (see imagesDir).
var (
	launcherOnce sync.Once
	launcherPath string
	launcherErr  error

	sharedOnce      sync.Once
	sharedDir       string
	sharedTemporary bool
	sharedArchives  map[string]Archive
	sharedOptions   Options
	sharedErr       error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedTemporary {
		_ = os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// imagesDir is where the package's tests build the images: .cache/testimages at the
// repository root, kept from one run to the next, so that a program that did not change is
// not linked again and an archive whose inputs did not change is not rewritten (Build's
// stamps): most of this package's run time went into writing the same archives again. Outside
// a checkout it is a temporary folder, removed at the end. e2e/node builds into .cache/images:
// the two never share a folder, as TestBuildIsCached rewrites an archive for a moment.
func imagesDir() (dir string, temporary bool, err error) {
	if root, err := repoRoot(); err == nil {
		dir = filepath.Join(root, ".cache", "testimages")
		return dir, false, os.MkdirAll(dir, 0o750)
	}
	dir, err = os.MkdirTemp("", "testimages-")
	return dir, true, err
}

// builtImages builds every image once (the Jaeger image from the real Jaeger binary when
// hack/testbin.sh built it, else from the test app's binary, as a stand-in for the check) and
// returns the archives by reference.
func builtImages(t *testing.T) (map[string]Archive, Options) {
	t.Helper()
	sharedOnce.Do(func() {
		if sharedDir, sharedTemporary, sharedErr = imagesDir(); sharedErr != nil {
			return
		}
		sharedOptions = Options{OutDir: sharedDir, Logf: t.Logf}
		if jaeger := realJaeger(); jaeger != "" {
			sharedOptions.Jaeger = jaeger
		} else {
			// Any static binary exercises the builder; the real one is checked when it exists.
			stand := Options{OutDir: sharedDir, Images: []string{TestAppImage}}
			if _, sharedErr = Build(t.Context(), stand); sharedErr != nil {
				return
			}
			sharedOptions.Jaeger = filepath.Join(sharedDir, "bin", "linux-"+platform().Architecture, "testapp")
			sharedOptions.anyJaegerBinary = true
		}
		var archives []Archive
		archives, sharedErr = Build(t.Context(), sharedOptions)
		sharedArchives = map[string]Archive{}
		for _, a := range archives {
			sharedArchives[a.Ref] = a
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedArchives, sharedOptions
}

// realJaeger is hack/testbin.sh's Jaeger binary, or "" when it is not built.
func realJaeger() string {
	dir := os.Getenv("OSM_TESTBIN")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return ""
		}
		dir = filepath.Join(root, ".cache", "testbin")
	}
	p := filepath.Join(dir, "jaeger-"+JaegerModuleVersion, "jaeger")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// repoRoot is the folder of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// openArchive reads an archive as containerd would: the OCI layout in the tar, its
// index.json entry (returned), the image index it names and the one image in it.
func openArchive(t *testing.T, archive string) (v1.Descriptor, v1.Image) {
	t.Helper()
	dir := t.TempDir()
	untar(t, archive, dir)
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("%s is not an OCI layout: %v", archive, err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("%s: index.json lists %d entries, want 1", archive, len(m.Manifests))
	}
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Platform == nil || im.Manifests[0].Platform.String() != platform().String() {
		t.Fatalf("%s: the image index lists %+v, want one %s image", archive, im.Manifests, platform().String())
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return m.Manifests[0], img
}

// untar unpacks a tar file (an archive, or an uncompressed layer) into dir.
func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := extract(f, dir); err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
}

// extract writes a tar stream's entries under dir, as a container runtime unpacks a layer:
// files with their modes, folders, symbolic links as they are.
func extract(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if p != dir && !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return errors.New(h.Name + " is outside the archive")
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			err = os.Chmod(p, os.FileMode(h.Mode&0o777)|modeBits(h.Mode))
		case tar.TypeReg:
			var data []byte
			if data, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, data, os.FileMode(h.Mode&0o777))
			}
			if err == nil {
				err = os.Chmod(p, os.FileMode(h.Mode&0o777))
			}
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, p)
		default:
			return errors.New(h.Name + ": unexpected entry type")
		}
		if err != nil {
			return err
		}
	}
}

// modeBits carries the sticky bit of a folder (/tmp's 1777).
func modeBits(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

// rootfs unpacks an image's layers into a new folder that every user may enter (the
// programs run as their image's non-root users).
func rootfs(t *testing.T, img v1.Image) string {
	t.Helper()
	dir := shareableDir(t)
	unpack(t, img, dir)
	return dir
}

// unpack extracts an image's layers into dir.
func unpack(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		err = extract(rc, dir)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// imageRoot is the image of archive a unpacked (as rootfs does) and its config. When
// sharedDir is kept between runs, the root is kept too, under sharedDir/roots, named after
// the archive and its digest: unpacking the Jaeger image through the race detector's
// instrumented gzip and tar took 15 s of every `make test`. The roots are only read (the
// programs run on read-only binds of them, or as root on files nobody changes); the mount
// points tests add to them are the same every time. A root of an older archive of the same
// image is removed when a new one is made.
func imageRoot(t *testing.T, a Archive) (string, *v1.ConfigFile) {
	t.Helper()
	if sharedTemporary {
		_, img := openArchive(t, a.Path)
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		return rootfs(t, img), cfg
	}
	s, err := readStamp(a.Path + ".inputs")
	if err != nil {
		t.Fatalf("%s has no stamp: %v", a.Path, err)
	}
	rootsDir := filepath.Join(sharedDir, "roots")
	if err := os.MkdirAll(rootsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSuffix(filepath.Base(a.Path), ".oci.tar") + "-"
	dir := filepath.Join(rootsDir, prefix+strings.TrimPrefix(s.Archive, "sha256:")[:16])
	if root, cfg, err := readRoot(dir); err == nil {
		return root, cfg
	}
	old, _ := filepath.Glob(filepath.Join(rootsDir, prefix+"*"))
	for _, o := range old {
		_ = os.RemoveAll(o)
	}
	_, img := openArchive(t, a.Path)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(rootsDir, "unpacking-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp) // left only when the rename below failed
	root := filepath.Join(tmp, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	unpack(t, img, root)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Another test binary may have unpacked it meanwhile: then its root is as good.
	if err := os.Rename(tmp, dir); err != nil {
		if root, cfg, err := readRoot(dir); err == nil {
			return root, cfg
		}
		t.Fatalf("keeping the unpacked %s: %v", a.Ref, err)
	}
	return filepath.Join(dir, "root"), cfg
}

// readRoot reads a root imageRoot kept: DIR/root and DIR/config.json.
func readRoot(dir string) (string, *v1.ConfigFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", nil, err
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "root"), &cfg, nil
}

// launcherPackage is the program that runs osm-init as a container runtime would.
const launcherPackage = "github.com/osm-tracing/osm-tracing/e2e/testimages/launcher"

// launcher builds e2e/testimages/launcher once, beside the images' programs.
func launcher(t *testing.T) string {
	t.Helper()
	builtImages(t) // sharedDir
	launcherOnce.Do(func() {
		dir := filepath.Join(sharedDir, "bin", platform().OS+"-"+platform().Architecture)
		launcherPath, launcherErr = compile(t.Context(), sharedOptions, launcherPackage, dir)
	})
	if launcherErr != nil {
		t.Fatal(launcherErr)
	}
	return launcherPath
}
