package ociarchive

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is scratch plus one layer: OCI media types (Docker's would do for containerd, but
// the OCI ones are what the archive format is named after), the given config file and one
// history entry for the layer. Nothing is pulled: there is no base image.
func Image(config *v1.ConfigFile, layer v1.Layer, history v1.History) (v1.Image, error) {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err := mutate.ConfigFile(base, config)
	if err != nil {
		return nil, err
	}
	return mutate.Append(base, mutate.Addendum{Layer: layer, History: history})
}

// PlatformImage is the image of one platform of an index.
type PlatformImage struct {
	Platform v1.Platform
	Image    v1.Image
}

// Index is the image index of the images, in their order, each listed with its platform so
// that a runtime picks its own without reading every config.
func Index(images []PlatformImage) v1.ImageIndex {
	adds := make([]mutate.IndexAddendum, 0, len(images))
	for _, pi := range images {
		platform := pi.Platform
		adds = append(adds, mutate.IndexAddendum{Add: pi.Image, Descriptor: v1.Descriptor{Platform: &platform}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}
