package manifests

import (
	"testing"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestDefaultInitImage: osm-init's image has the chart's appVersion as its tag, as
// osm-injector's has, and its archive is named like osm-injector's.
func TestDefaultInitImage(t *testing.T) {
	img, err := DefaultInitImage()
	if err != nil {
		t.Fatal(err)
	}
	ch := loadChart(t)
	want := InitImage{Repository: "ghcr.io/osm-tracing/osm-init", Tag: ch.Metadata.AppVersion}
	if img != want {
		t.Errorf("DefaultInitImage() = %+v, want %+v", img, want)
	}
	if got, want := img.Ref(), "ghcr.io/osm-tracing/osm-init:"+ch.Metadata.AppVersion; got != want {
		t.Errorf("Ref() = %q, want %q", got, want)
	}
	if got, want := img.Archive(), "osm-init-"+ch.Metadata.AppVersion+".oci.tar"; got != want {
		t.Errorf("Archive() = %q, want %q", got, want)
	}
}

// TestTheInjectorInjectsTheInitImageMakeImageBuilds: the injector's built-in init image (and
// so the chart's default, TestChartDefaultsMatchTheInjector) is the one make image builds.
func TestTheInjectorInjectsTheInitImageMakeImageBuilds(t *testing.T) {
	img, err := DefaultInitImage()
	if err != nil {
		t.Fatal(err)
	}
	if inject.DefaultInitImage != img.Ref() {
		t.Errorf("inject.DefaultInitImage = %q, make image builds %q", inject.DefaultInitImage, img.Ref())
	}
}
