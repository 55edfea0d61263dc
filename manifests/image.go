package manifests

import (
	"fmt"
	"io/fs"

	"sigs.k8s.io/yaml"
)

// InjectorImage is the osm-injector image the embedded chart deploys by default, and the
// archive `make image` (hack/image) builds for it.
type InjectorImage struct {
	// Repository is values.yaml's osm.injector.image.repository.
	Repository string
	// Tag is values.yaml's osm.injector.image.tag, or the chart's appVersion when that is
	// empty, as the chart's osm.injector.image template does.
	Tag string
	// AppVersion is Chart.yaml's appVersion: the version `make image` builds and labels.
	AppVersion string
}

// Ref is the image reference the chart's Deployment runs, REPOSITORY:TAG.
func (i InjectorImage) Ref() string { return i.Repository + ":" + i.Tag }

// Archive is the file name, inside bin/, of the image archive `make image` writes for the
// chart's appVersion.
func (i InjectorImage) Archive() string { return ImageArchiveName(i.AppVersion) }

// ImageArchiveName is the file name of the OCI image archive of osm-injector version v.
func ImageArchiveName(v string) string { return "osm-injector-" + v + ".oci.tar" }

// DefaultInjectorImage reads the chart's default osm-injector image from the embedded
// Chart.yaml and values.yaml.
func DefaultInjectorImage() (InjectorImage, error) {
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := readYAML("Chart.yaml", &meta); err != nil {
		return InjectorImage{}, err
	}
	var values struct {
		OSM struct {
			Injector struct {
				Image struct {
					Repository string `json:"repository"`
					Tag        string `json:"tag"`
				} `json:"image"`
			} `json:"injector"`
		} `json:"osm"`
	}
	if err := readYAML("values.yaml", &values); err != nil {
		return InjectorImage{}, err
	}
	img := InjectorImage{
		Repository: values.OSM.Injector.Image.Repository,
		Tag:        values.OSM.Injector.Image.Tag,
		AppVersion: meta.AppVersion,
	}
	if img.Tag == "" {
		img.Tag = img.AppVersion
	}
	if img.AppVersion == "" || img.Repository == "" {
		return InjectorImage{}, fmt.Errorf("the embedded chart has no appVersion (%q) or no osm.injector.image.repository (%q)",
			img.AppVersion, img.Repository)
	}
	return img, nil
}

func readYAML(name string, out any) error {
	data, err := fs.ReadFile(ChartFS, name)
	if err != nil {
		return fmt.Errorf("when reading the embedded chart's %s: %w", name, err)
	}
	if err := yaml.Unmarshal(data, out); err != nil {
		return fmt.Errorf("when parsing the embedded chart's %s: %w", name, err)
	}
	return nil
}
