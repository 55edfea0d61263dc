package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// Entrypoint is where the binary is in the image: the chart's Deployment passes only
	// args, so the entrypoint is what runs.
	Entrypoint = "/osm-injector"
	// User is the image's user, numeric so that the kubelet can check runAsNonRoot without
	// an /etc/passwd (the image has none); the chart runs the pod as 65532:65532 too.
	User = "65532:65532"

	source = "https://github.com/osm-tracing/osm-tracing"
	// license is the org.opencontainers.image.licenses label, an SPDX expression. The
	// repository declares no license yet; NOASSERTION is SPDX's word for that.
	license = "NOASSERTION"

	// Annotations of the index in the archive's index.json: containerd (ctr images import,
	// kind load image-archive) stores the image under the full name, skopeo and crane find
	// it by the tag (oci-archive:FILE:TAG).
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// Ref is the image's full name, REPOSITORY:VERSION.
func (o Options) Ref() string { return o.Repository + ":" + o.Version }

// Labels are the image's org.opencontainers.image.* labels.
func (o Options) Labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "osm-injector",
		"org.opencontainers.image.description": "osm-tracing's sidecar injector: admission webhook and controllers",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.source":      source,
		"org.opencontainers.image.url":         source,
		"org.opencontainers.image.licenses":    license,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
}

// Image is the image of one binary: scratch plus one layer with the binary at Entrypoint
// and an empty /tmp, the OCI media types, and every timestamp set to o.Created.
func Image(o Options, bin Binary) (v1.Image, error) {
	created := o.Created.UTC()
	layer, err := binaryLayer(bin.Path, created)
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: bin.Platform.Architecture,
		OS:           bin.Platform.OS,
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{Entrypoint},
			User:       User,
			WorkingDir: "/",
			Labels:     o.Labels(),
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: fmt.Sprintf("hack/image: osm-injector %s for %s at %s", o.Version, bin.Platform.String(), Entrypoint),
		},
	})
}

// binaryLayer is a gzipped layer holding the binary at Entrypoint (root-owned, 0755) and an
// empty /tmp (1777, for a run without the chart's emptyDir). Entries are sorted and stamped
// with created, owned by 0:0 without names.
func binaryLayer(path string, created time.Time) (v1.Layer, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the binary this program built.
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	headers := []*tar.Header{
		{Typeflag: tar.TypeReg, Name: Entrypoint[1:], Mode: 0o755, Size: int64(len(data)), ModTime: created},
		{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: created},
	}
	for _, h := range headers {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(data); err != nil {
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

// Index is the multi-platform image index of the binaries, in their order.
func Index(o Options, bins []Binary) (v1.ImageIndex, error) {
	adds := make([]mutate.IndexAddendum, 0, len(bins))
	for _, bin := range bins {
		img, err := Image(o, bin)
		if err != nil {
			return nil, fmt.Errorf("the image for %s: %w", bin.Platform.String(), err)
		}
		platform := bin.Platform
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &platform}})
	}
	return mutate.AppendManifests(empty.Index, adds...), nil
}

// WriteArchive writes the image index of the binaries to archive as an OCI image layout in
// a tar, whose index.json names it o.Ref(); it returns the index's digest. The archive is
// replaced only once it is complete.
func WriteArchive(o Options, bins []Binary, archive string) (v1.Hash, error) {
	idx, err := Index(o, bins)
	if err != nil {
		return v1.Hash{}, err
	}
	digest, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	dir, err := os.MkdirTemp("", "osm-injector-layout-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		annotationImageName: o.Ref(),
		annotationRefName:   o.Version,
	})); err != nil {
		return v1.Hash{}, fmt.Errorf("when writing the OCI layout: %w", err)
	}
	if err := tarDir(dir, archive, o.Created.UTC()); err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}

// tarDir writes the files under dir into the tar file out, in lexical order, every entry
// stamped with mtime, owned by 0:0 without names, folders 0755 and files 0644.
func tarDir(dir, out string, mtime time.Time) (err error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return err
	}
	partial := out + ".partial"
	f, err := os.Create(partial) //nolint:gosec // G304: the archive path the user chose.
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
	f, err := os.Open(path) //nolint:gosec // G304: a file of the layout this program wrote.
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
