package ociarchive

import (
	"archive/tar"
	"bytes"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one file, folder or symbolic link of a layer. Name is the path inside the image
// without the leading slash; a folder's ends with a slash, as tar writes them.
type Entry struct {
	Type byte // tar.TypeReg, tar.TypeDir or tar.TypeSymlink
	Name string
	Mode int64
	Data []byte // a file's content
	Link string // a link's target, as readlink prints it
}

// File is a regular file; Dir a folder (name ending in a slash); Symlink a symbolic link.
func File(name string, mode int64, data []byte) Entry {
	return Entry{Type: tar.TypeReg, Name: name, Mode: mode, Data: data}
}

// Dir is a folder; name ends with a slash.
func Dir(name string, mode int64) Entry { return Entry{Type: tar.TypeDir, Name: name, Mode: mode} }

// Symlink is a symbolic link to target. Its mode is 0777, as Linux reports every link's.
func Symlink(name, target string) Entry {
	return Entry{Type: tar.TypeSymlink, Name: name, Mode: 0o777, Link: target}
}

// header is the entry's tar header: stamped with created and owned by 0:0 without names.
// Only the fields a layer needs are set, so that the bytes depend on nothing else.
func (e Entry) header(created time.Time) *tar.Header {
	h := &tar.Header{Typeflag: e.Type, Name: e.Name, Mode: e.Mode, ModTime: created}
	switch e.Type {
	case tar.TypeReg:
		h.Size = int64(len(e.Data))
	case tar.TypeSymlink:
		h.Linkname = e.Link
	}
	return h
}

// Layer is a gzipped OCI layer holding entries in the given order (parents before their
// children: the caller decides the order, so that it is the same on every build), each
// stamped with created.
func Layer(entries []Entry, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(e.header(created)); err != nil {
			return nil, err
		}
		if e.Type == tar.TypeReg {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerTar := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
