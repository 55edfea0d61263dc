package main

import (
	"fmt"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
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

	// Annotations of the index in the archive's index.json (see ociarchive).
	annotationImageName = ociarchive.AnnotationImageName
	annotationRefName   = ociarchive.AnnotationRefName
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
	return ociarchive.Image(&v1.ConfigFile{
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
	}, layer, v1.History{
		Created:   v1.Time{Time: created},
		CreatedBy: fmt.Sprintf("hack/image: osm-injector %s for %s at %s", o.Version, bin.Platform.String(), Entrypoint),
	})
}

// binaryLayer is a gzipped layer holding the binary at Entrypoint (root-owned, 0755) and an
// empty /tmp (1777, for a run without the chart's emptyDir), stamped with created.
func binaryLayer(path string, created time.Time) (v1.Layer, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the binary this program built.
	if err != nil {
		return nil, err
	}
	return ociarchive.Layer([]ociarchive.Entry{
		ociarchive.File(Entrypoint[1:], 0o755, data),
		ociarchive.Dir("tmp/", 0o1777),
	}, created)
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
