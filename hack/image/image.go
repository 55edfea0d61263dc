package main

import (
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
)

const (
	// User is the images' user, numeric so that the kubelet can check runAsNonRoot without
	// an /etc/passwd (the images have none). The chart runs osm-injector's pod as
	// 65532:65532 too. osm-init's container sets runAsUser 0, which it needs (see
	// cmd/osm-init): the image's own user stays non-root, so that the image run by itself,
	// outside the injected pod spec, gets no privilege it was not explicitly given.
	User = "65532:65532"

	source = "https://github.com/osm-tracing/osm-tracing"
	// license is the org.opencontainers.image.licenses label, an SPDX expression. The
	// repository declares no license yet; NOASSERTION is SPDX's word for that.
	license = "NOASSERTION"

	// Annotations of the index in the archive's index.json (see ociarchive).
	annotationImageName = ociarchive.AnnotationImageName
	annotationRefName   = ociarchive.AnnotationRefName
)

// Ref is the image's full name, REPOSITORY:VERSION.
func (o Options) Ref() string { return o.Program.Repository + ":" + o.Version }

// Archive is the archive's file name.
func (o Options) Archive() string { return o.Program.Archive(o.Version) }

// Labels are the image's org.opencontainers.image.* labels.
func (o Options) Labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       o.Program.Name,
		"org.opencontainers.image.description": o.Program.Description,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.source":      source,
		"org.opencontainers.image.url":         source,
		"org.opencontainers.image.licenses":    license,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
	}
}

// Image is the image of one binary: scratch plus one layer with the binary at the program's
// Entrypoint (and an empty /tmp if it wants one), the OCI media types, and every timestamp
// set to o.Created.
func Image(o Options, bin Binary) (v1.Image, error) {
	created := o.Created.UTC()
	layer, err := binaryLayer(o.Program, bin.Path, created)
	if err != nil {
		return nil, err
	}
	return ociarchive.Image(&v1.ConfigFile{
		Architecture: bin.Platform.Architecture,
		OS:           bin.Platform.OS,
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{o.Program.Entrypoint()},
			User:       User,
			WorkingDir: "/",
			Labels:     o.Labels(),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}, layer, v1.History{
		Created:   v1.Time{Time: created},
		CreatedBy: fmt.Sprintf("hack/image: %s %s for %s at %s", o.Program.Name, o.Version, bin.Platform.String(), o.Program.Entrypoint()),
	})
}

// binaryLayer is a gzipped layer holding the binary at the program's Entrypoint
// (root-owned, 0755) and, if the program wants one, an empty /tmp (1777, for a run without
// the chart's emptyDir), stamped with created.
func binaryLayer(p Program, path string, created time.Time) (v1.Layer, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the binary this program built.
	if err != nil {
		return nil, err
	}
	entries := []ociarchive.Entry{ociarchive.File(p.Entrypoint()[1:], 0o755, data)}
	if p.Tmp {
		entries = append(entries, ociarchive.Dir("tmp/", 0o1777))
	}
	return ociarchive.Layer(entries, created)
}

// Index is the multi-platform image index of the binaries, in their order.
func Index(o Options, bins []Binary) (v1.ImageIndex, error) {
	images := make([]ociarchive.PlatformImage, 0, len(bins))
	for _, bin := range bins {
		img, err := Image(o, bin)
		if err != nil {
			return nil, fmt.Errorf("the image for %s: %w", bin.Platform.String(), err)
		}
		images = append(images, ociarchive.PlatformImage{Platform: bin.Platform, Image: img})
	}
	return ociarchive.Index(images), nil
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
	if err := ociarchive.WriteIndex(idx, o.Ref(), o.Version, archive, o.Created); err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}
