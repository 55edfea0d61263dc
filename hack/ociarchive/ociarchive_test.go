package ociarchive

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

var stamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestLayer: entries come out in the given order, stamped, owned by 0:0 without names, with
// their modes, contents and link targets.
func TestLayer(t *testing.T) {
	l, err := Layer([]Entry{Dir("usr/", 0o755), File("usr/tool", 0o755, []byte("#!")), Symlink("tool", "usr/tool"), Dir("tmp/", 0o1777)}, stamp)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	type row struct {
		Type       byte
		Name, Link string
		Mode       int64
		Data       string
	}
	var got []row
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(stamp) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %s, owner %d:%d %q:%q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		data, _ := io.ReadAll(tr)
		got = append(got, row{h.Typeflag, h.Name, h.Linkname, h.Mode, string(data)})
	}
	want := []row{{tar.TypeDir, "usr/", "", 0o755, ""}, {tar.TypeReg, "usr/tool", "", 0o755, "#!"},
		{tar.TypeSymlink, "tool", "usr/tool", 0o777, ""}, {tar.TypeDir, "tmp/", "", 0o1777, ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
}

// TestWriteIndex: the archive is an OCI layout whose index.json names the image for
// containerd and by tag, and whose entries are stamped; writing it twice gives the same bytes.
func TestWriteIndex(t *testing.T) {
	l, err := Layer([]Entry{File("x", 0o644, []byte("x"))}, stamp)
	if err != nil {
		t.Fatal(err)
	}
	p := v1.Platform{OS: "linux", Architecture: "amd64"}
	img, err := Image(&v1.ConfigFile{OS: p.OS, Architecture: p.Architecture, Created: v1.Time{Time: stamp}, RootFS: v1.RootFS{Type: "layers"}},
		l, v1.History{Created: v1.Time{Time: stamp}, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	idx := Index([]PlatformImage{{Platform: p, Image: img}})
	dir := t.TempDir()
	var archives [2]string
	for i := range archives {
		archives[i] = filepath.Join(dir, "out", string(rune('a'+i))+".oci.tar")
		if err := WriteIndex(idx, "example.test/x:v1", "v1", archives[i], stamp); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(archives[0])
	b, _ := os.ReadFile(archives[1])
	if string(a) != string(b) || len(a) == 0 {
		t.Error("two writes of the same index differ")
	}
	f, err := os.Open(archives[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(stamp) {
			t.Errorf("%s: mtime %s", h.Name, h.ModTime)
		}
		path := filepath.Join(out, h.Name)
		if h.Typeflag == tar.TypeDir {
			err = os.MkdirAll(path, 0o755)
		} else {
			data, _ := io.ReadAll(tr)
			err = os.WriteFile(path, data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	top, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("index.json: %+v, %v", m, err)
	}
	want := map[string]string{AnnotationImageName: "example.test/x:v1", AnnotationRefName: "v1"}
	if diff := cmp.Diff(want, m.Manifests[0].Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(archives[0] + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial file is left behind: %v", err)
	}
}
