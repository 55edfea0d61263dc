package ociarchive

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Annotations of the image's entry in the archive's index.json: containerd (ctr images
// import, kind load image-archive) stores the image under the full name, skopeo and crane
// find it by the tag (oci-archive:FILE:TAG).
const (
	AnnotationImageName = "io.containerd.image.name"
	AnnotationRefName   = "org.opencontainers.image.ref.name"
)

// WriteIndex writes idx to archive as an OCI image layout in a tar whose index.json lists
// idx alone, named ref (the full name, REPOSITORY:TAG) and tag. Every entry of the tar is
// stamped with mtime. The archive is replaced only once it is complete, so that a reader
// never sees half of one.
func WriteIndex(idx v1.ImageIndex, ref, tag, archive string, mtime time.Time) error {
	dir, err := os.MkdirTemp("", "oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		AnnotationImageName: ref,
		AnnotationRefName:   tag,
	})); err != nil {
		return fmt.Errorf("when writing the OCI layout: %w", err)
	}
	return tarDir(dir, archive, mtime.UTC())
}

// tarDir writes the files under dir into the tar file out, in lexical order, every entry
// stamped with mtime, owned by 0:0 without names, folders 0755 and files 0644.
func tarDir(dir, out string, mtime time.Time) (err error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return err
	}
	partial := out + ".partial"
	f, err := os.Create(partial) //nolint:gosec // G304: the archive path the caller chose.
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(partial)
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime}
		switch {
		case d.IsDir():
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(h)
		case d.Type().IsRegular():
			return copyFile(tw, h, path)
		default:
			return fmt.Errorf("%s: not a file or a folder", path)
		}
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(partial, out)
}

func copyFile(tw *tar.Writer, h *tar.Header, path string) error {
	f, err := os.Open(path) //nolint:gosec // G304: a file of the layout this package wrote.
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, info.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
