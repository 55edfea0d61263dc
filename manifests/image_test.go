package manifests

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestDefaultInjectorImage holds DefaultInjectorImage (what `osm version` prints and what
// `make image` names and labels) to the image the chart really renders, and the Deployment
// to what hack/image builds: no command (the image's entrypoint, /osm-injector, runs) and
// user 65532:65532.
func TestDefaultInjectorImage(t *testing.T) {
	img, err := DefaultInjectorImage()
	if err != nil {
		t.Fatal(err)
	}
	ch := loadChart(t)
	if img.AppVersion != ch.Metadata.AppVersion || img.Tag != ch.Metadata.AppVersion {
		t.Errorf("DefaultInjectorImage = %+v, want the tag and version %q (Chart.yaml's appVersion)", img, ch.Metadata.AppVersion)
	}
	if want := "osm-injector-" + ch.Metadata.AppVersion + ".oci.tar"; img.Archive() != want {
		t.Errorf("Archive() = %q, want %q", img.Archive(), want)
	}

	r := mustRender(t, testNamespace, nil)
	c := injectorContainer(t, r)
	if c.Image != img.Ref() {
		t.Errorf("the chart renders image %q, DefaultInjectorImage().Ref() is %q", c.Image, img.Ref())
	}
	if len(c.Command) != 0 {
		t.Errorf("the injector container sets command %q: the image's entrypoint /osm-injector would not run", c.Command)
	}
	var d appsv1.Deployment
	r.get("Deployment/osm-injector", &d)
	psc := d.Spec.Template.Spec.SecurityContext
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != 65532 || psc.RunAsGroup == nil || *psc.RunAsGroup != 65532 {
		t.Errorf("pod securityContext = %+v, want runAsUser and runAsGroup 65532, the image's user", psc)
	}

	overridden := injectorContainer(t, mustRender(t, testNamespace,
		set("osm.injector.image.repository=registry.example/osm-injector", "osm.injector.image.tag=dev")))
	if overridden.Image != "registry.example/osm-injector:dev" {
		t.Errorf("with repository and tag set, the chart renders image %q", overridden.Image)
	}
}
