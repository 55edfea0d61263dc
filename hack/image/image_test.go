package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/osm-tracing/osm-tracing/manifests"
)

// testEpoch is the SOURCE_DATE_EPOCH of the test builds: 2026-01-02T03:04:05Z.
const testEpoch = "1767323045"

const testRevision = "0123456789abcdef0123456789abcdef01234567"

// TestImageArchive builds each image archive as `make image` does, opens it with
// go-containerregistry and checks what a cluster relies on: the name containerd imports it
// under, each platform's config (os and architecture, numeric non-root user, entrypoint,
// labels, timestamps), a layer holding only a static binary of the right architecture (and
// /tmp for osm-injector), and that the binary for this machine runs. A second build,
// binaries and all, must give the same digest and the same bytes.
func TestImageArchive(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	o, err := defaultOptions(ctx, testRevision, testEpoch, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	injector, err := manifests.DefaultInjectorImage()
	if err != nil {
		t.Fatal(err)
	}
	initImage, err := manifests.DefaultInitImage()
	if err != nil {
		t.Fatal(err)
	}
	programs, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	if len(programs) != 2 || programs[0].Name != "osm-injector" || programs[1].Name != "osm-init" {
		t.Fatalf("Programs() = %+v, want osm-injector and osm-init", programs)
	}
	// Each platform costs a full -trimpath compile of osm-injector on a cold build cache
	// (minutes on CI's two cores): the test builds this machine's platform unless
	// OSM_IMAGE_TEST_PLATFORMS names more (linux/amd64,linux/arm64 is what make image builds).
	platforms := os.Getenv("OSM_IMAGE_TEST_PLATFORMS")
	if platforms == "" {
		platforms = "linux/" + runtime.GOARCH
	}
	o.Platforms, err = ParsePlatforms(platforms)
	if err != nil {
		t.Fatal(err)
	}
	o.Logf = t.Logf

	for _, c := range []struct {
		program        Program
		ref, tag, file string
		layer          []string
	}{
		{programs[0], injector.Ref(), injector.Tag, injector.Archive(), []string{"osm-injector", "tmp/"}},
		{programs[1], initImage.Ref(), initImage.Tag, initImage.Archive(), []string{"osm-init"}},
	} {
		t.Run(c.program.Name, func(t *testing.T) {
			o := o
			o.Program = c.program
			if o.Version != injector.AppVersion || o.Ref() != c.ref || o.Archive() != c.file {
				t.Errorf("the image is %s version %s in %s, want %s version %s (the chart's appVersion) in %s",
					o.Ref(), o.Version, o.Archive(), c.ref, injector.AppVersion, c.file)
			}
			checkArchive(ctx, t, o, c.ref, c.tag, c.layer, strings.Split(platforms, ","))
		})
	}
}

// checkArchive builds o's archive twice and checks it.
func checkArchive(ctx context.Context, t *testing.T, o Options, ref, tag string, layer, platforms []string) {
	var archives [2]string
	var digests [2]v1.Hash
	for i := range archives {
		start := time.Now()
		dir := t.TempDir()
		bins, err := Compile(ctx, o, dir)
		if err != nil {
			t.Fatal(err)
		}
		archives[i] = filepath.Join(dir, o.Archive())
		if digests[i], err = WriteArchive(o, bins, archives[i]); err != nil {
			t.Fatal(err)
		}
		t.Logf("build %d: %s in %s", i+1, digests[i], time.Since(start).Round(100*time.Millisecond))
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds gave the index digests %s and %s", digests[0], digests[1])
	}
	if a, b := fileSum(t, archives[0]), fileSum(t, archives[1]); a != b {
		t.Errorf("two builds gave archives with the sha256 sums %s and %s", a, b)
	}

	layoutDir := untar(t, archives[0], o.Created)
	top, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatalf("go-containerregistry cannot read the archive as an OCI layout: %v", err)
	}
	topManifest, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topManifest.Manifests) != 1 {
		t.Fatalf("index.json lists %d entries, want 1 (the image index)", len(topManifest.Manifests))
	}
	entry := topManifest.Manifests[0]
	if entry.MediaType != types.OCIImageIndex || entry.Digest != digests[0] {
		t.Errorf("index.json lists a %s %s, want the OCI image index %s", entry.MediaType, entry.Digest, digests[0])
	}
	wantNames := map[string]string{annotationImageName: ref, annotationRefName: tag}
	if diff := cmp.Diff(wantNames, entry.Annotations); diff != "" {
		t.Errorf("index.json annotations (-want +got):\n%s", diff)
	}

	idx, err := top.ImageIndex(entry.Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, desc := range im.Manifests {
		if desc.Platform == nil {
			t.Fatalf("the index lists %s without a platform", desc.Digest)
		}
		got = append(got, desc.Platform.String())
		t.Run(desc.Platform.String(), func(t *testing.T) {
			img, err := idx.Image(desc.Digest)
			if err != nil {
				t.Fatal(err)
			}
			checkImage(t, o, desc, img, layer)
		})
	}
	if !slices.Equal(got, platforms) {
		t.Errorf("the index lists the platforms %v, want %v", got, platforms)
	}
}

// checkImage checks one platform's image in the index and, for this machine's platform, runs
// its binary.
func checkImage(t *testing.T, o Options, desc v1.Descriptor, img v1.Image, layer []string) {
	if desc.MediaType != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want %s", desc.MediaType, types.OCIManifestSchema1)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != desc.Platform.OS || cfg.Architecture != desc.Platform.Architecture {
		t.Errorf("config is for %s/%s, the index says %s", cfg.OS, cfg.Architecture, desc.Platform.String())
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (numeric and not root)", cfg.Config.User)
	}
	name := o.Program.Name
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/" + name}) || len(cfg.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q and cmd %q, want [/%s] and none", cfg.Config.Entrypoint, cfg.Config.Cmd, name)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.title":       name,
		"org.opencontainers.image.description": o.Program.Description,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    testRevision,
		"org.opencontainers.image.source":      "https://github.com/osm-tracing/osm-tracing",
		"org.opencontainers.image.url":         "https://github.com/osm-tracing/osm-tracing",
		"org.opencontainers.image.licenses":    "NOASSERTION",
		"org.opencontainers.image.created":     "2026-01-02T03:04:05Z",
	}
	if diff := cmp.Diff(wantLabels, cfg.Config.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if !cfg.Created.Equal(o.Created) || len(cfg.History) != 1 || !cfg.History[0].Created.Equal(o.Created) {
		t.Errorf("config created %s, history %+v; want %s everywhere", cfg.Created, cfg.History, o.Created)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	if mt, err := layers[0].MediaType(); err != nil || mt != types.OCILayer {
		t.Errorf("layer media type %s (err %v), want %s", mt, err, types.OCILayer)
	}
	binary := layerBinary(t, layers[0], o.Created, name, layer)
	checkELF(t, binary, desc.Platform.Architecture)
	if runtime.GOOS != desc.Platform.OS || runtime.GOARCH != desc.Platform.Architecture {
		return
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	runBinary(t, o, path)
}

// runBinary runs the image's binary as a user would, to see that it is the program it should
// be: osm-injector's --help and --version, osm-init's --dry-run (which touches nothing).
func runBinary(t *testing.T, o Options, path string) {
	switch o.Program.Name {
	case "osm-injector":
		help, err := exec.Command(path, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(help), "--webhook-port") {
			t.Errorf("osm-injector --help from the image: %v\n%s", err, help)
		}
		version, err := exec.Command(path, "--version").CombinedOutput()
		want := "osm-injector version " + o.Version + " (commit " + testRevision + ")\n"
		if err != nil || string(version) != want {
			t.Errorf("osm-injector --version from the image: %v, %q; want %q", err, version, want)
		}
	case "osm-init":
		out, err := exec.Command(path, "--dry-run", "--outbound-port-exclusions=3306").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "table ip6 osm_proxy {") || !strings.Contains(string(out), "tcp dport 3306 return") {
			t.Errorf("osm-init --dry-run from the image: %v\n%s", err, out)
		}
	default:
		t.Errorf("no check of %s's binary", o.Program.Name)
	}
}

// layerBinary returns /NAME from the layer, after checking that the layer holds exactly the
// entries want, root-owned and stamped with created.
func layerBinary(t *testing.T, layer v1.Layer, created time.Time, name string, want []string) []byte {
	t.Helper()
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	var binary []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(created) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("layer entry %s: mtime %s, owner %d:%d; want %s, 0:0", h.Name, h.ModTime, h.Uid, h.Gid, created)
		}
		switch h.Name {
		case name:
			if h.Typeflag != tar.TypeReg || h.Mode != 0o755 {
				t.Errorf("%s: type %c, mode %o; want a file, 0755", name, h.Typeflag, h.Mode)
			}
			if binary, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		case "tmp/":
			if h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
				t.Errorf("tmp/: type %c, mode %o; want a folder, 1777", h.Typeflag, h.Mode)
			}
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("the layer holds %q, want %q (no shell, nothing else)", names, want)
	}
	if binary == nil {
		t.Fatalf("the layer has no %s", name)
	}
	return binary
}

// checkELF checks that binary is a static Linux executable for the Go architecture arch.
func checkELF(t *testing.T, binary []byte, arch string) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatalf("the binary is not an ELF file: %v", err)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if f.Machine != want {
		t.Errorf("the binary is for %s, want %s", f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%s): the image has no libc", p.Type)
		}
	}
}

// untar unpacks the archive into a new folder, after checking that its entries are sorted,
// stamped with mtime and owned by 0:0.
func untar(t *testing.T, archive string, mtime time.Time) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(mtime) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("archive entry %s: mtime %s, owner %d:%d; want %s, 0:0", h.Name, h.ModTime, h.Uid, h.Gid, mtime)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
			t.Fatalf("archive entry %s is outside the archive", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			var data []byte
			if data, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(path, data, 0o644)
			}
		default:
			t.Fatalf("archive entry %s has type %c", h.Name, h.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !slices.IsSorted(names) || !slices.Contains(names, "index.json") || !slices.Contains(names, "oci-layout") {
		t.Errorf("archive entries %q: want them sorted, with index.json and oci-layout", names)
	}
	return dir
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestDefaultOptions(t *testing.T) {
	ctx := context.Background()
	o, err := defaultOptions(ctx, "abc1234", "0", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Created.Equal(time.Unix(0, 0)) || o.Revision != "abc1234" {
		t.Errorf("defaultOptions = %+v, want created at 0 and the given revision", o)
	}
	for _, epoch := range []string{"yesterday", "-1", "1.5"} {
		if _, err := defaultOptions(ctx, "abc1234", epoch, t.Logf); err == nil {
			t.Errorf("SOURCE_DATE_EPOCH=%s is accepted", epoch)
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		return
	}
	// In a git checkout, the revision and the time default to HEAD's.
	o, err = defaultOptions(ctx, "", "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if _, gitErr := git(ctx, "rev-parse", "HEAD"); gitErr == nil &&
		(len(strings.TrimSuffix(o.Revision, "-dirty")) != 40 || o.Created.IsZero()) {
		t.Errorf("defaultOptions from git = revision %q, created %s", o.Revision, o.Created)
	}
}

// TestDefaultOptionsFromASourceArchive: outside a git checkout, make image still builds,
// with the revision "unknown" and the time SOURCE_DATE_EPOCH's, or the epoch.
func TestDefaultOptionsFromASourceArchive(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git: nothing to fall back from")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	ctx := context.Background()
	o, err := defaultOptions(ctx, "", "", t.Logf)
	if err != nil || o.Revision != notGit || !o.Created.Equal(time.Unix(0, 0)) {
		t.Errorf("defaultOptions outside git = %+v, %v; want revision %q created at the epoch", o, err, notGit)
	}
	o, err = defaultOptions(ctx, "", "1700000000", t.Logf)
	if err != nil || !o.Created.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("with SOURCE_DATE_EPOCH: %+v, %v", o, err)
	}
}

func TestOptionsCheck(t *testing.T) {
	platforms, err := ParsePlatforms("linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	programs, err := Programs()
	if err != nil {
		t.Fatal(err)
	}
	good := Options{Program: programs[1], Version: "0.1.0", Revision: "abc", Created: time.Unix(1, 0), Platforms: platforms}
	if err := good.check(); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	for name, edit := range map[string]func(*Options){
		"no program":      func(o *Options) { o.Program = Program{} },
		"bad tag":         func(o *Options) { o.Version = "1.0+build" },
		"no revision":     func(o *Options) { o.Revision = "" },
		"spaced revision": func(o *Options) { o.Revision = "abc -X main.evil=1" },
		"no time":         func(o *Options) { o.Created = time.Time{} },
		"no platform":     func(o *Options) { o.Platforms = nil },
		"not linux":       func(o *Options) { o.Platforms = []v1.Platform{{OS: "windows", Architecture: "amd64"}} },
		"variant":         func(o *Options) { o.Platforms = []v1.Platform{{OS: "linux", Architecture: "arm", Variant: "v7"}} },
	} {
		o := good
		edit(&o)
		if err := o.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSelectPrograms(t *testing.T) {
	for list, want := range map[string][]string{
		"":                      {"osm-injector", "osm-init"},
		"osm-init":              {"osm-init"},
		"osm-init,osm-injector": {"osm-init", "osm-injector"},
	} {
		got, err := selectPrograms(list)
		if err != nil {
			t.Fatalf("selectPrograms(%q): %v", list, err)
		}
		var names []string
		for _, p := range got {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("selectPrograms(%q) = %q, want %q", list, names, want)
		}
	}
	if _, err := selectPrograms("osm-init,envoy"); err == nil || !strings.Contains(err.Error(), `no image "envoy"`) {
		t.Errorf("selectPrograms with an unknown name = %v", err)
	}
}
