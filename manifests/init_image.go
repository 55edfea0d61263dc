package manifests

// InitImageRepository is the repository of osm-init's image, the injected init container
// that installs a pod's traffic redirect (cmd/osm-init).
const InitImageRepository = "ghcr.io/osm-tracing/osm-init"

// InitImage is osm-init's image for the chart's appVersion: what `make image` (hack/image)
// builds beside osm-injector's, and names and tags the same way.
type InitImage struct {
	// Repository is InitImageRepository.
	Repository string
	// Tag is the chart's appVersion, the version `make image` builds and labels.
	Tag string
}

// Ref is the image reference, REPOSITORY:TAG.
func (i InitImage) Ref() string { return i.Repository + ":" + i.Tag }

// Archive is the file name, inside bin/, of the image archive `make image` writes.
func (i InitImage) Archive() string { return InitImageArchiveName(i.Tag) }

// InitImageArchiveName is the file name of the OCI image archive of osm-init version v.
func InitImageArchiveName(v string) string { return "osm-init-" + v + ".oci.tar" }

// DefaultInitImage is osm-init's image for the embedded chart's appVersion.
func DefaultInitImage() (InitImage, error) {
	injector, err := DefaultInjectorImage()
	if err != nil {
		return InitImage{}, err
	}
	return InitImage{Repository: InitImageRepository, Tag: injector.AppVersion}, nil
}
