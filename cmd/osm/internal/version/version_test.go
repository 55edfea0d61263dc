package version

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/manifests"
)

func TestImageTag(t *testing.T) {
	tests := map[string]string{
		"ghcr.io/osm-tracing/osm-injector:0.1.0":        "0.1.0",
		"localhost:5000/osm-injector":                   "",
		"localhost:5000/osm-injector:v2":                "v2",
		"osm-injector@sha256:abcd":                      "",
		"ghcr.io/osm-tracing/osm-injector:1.0@sha256:a": "1.0",
	}
	for image, want := range tests {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestDescribeDeployment(t *testing.T) {
	two := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "osm-injector", Namespace: "osm-system",
			Labels: map[string]string{"app.kubernetes.io/version": "0.1.0"}},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "osm-injector", Image: "ghcr.io/osm-tracing/osm-injector:0.1.0"}},
		}}},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1},
	}
	want := "0.1.0 (image ghcr.io/osm-tracing/osm-injector:0.1.0; Deployment osm-system/osm-injector, 1/2 ready)"
	if got := DescribeDeployment(d); got != want {
		t.Errorf("DescribeDeployment = %q, want %q", got, want)
	}
	delete(d.Labels, "app.kubernetes.io/version")
	d.Spec.Template.Spec.Containers[0].Image = "osm-injector:v9"
	if got := DescribeDeployment(d); got[:2] != "v9" {
		t.Errorf("without the version label, DescribeDeployment = %q, want the image tag first", got)
	}
}

// TestInjectorImage checks that the image `osm version` names and the archive `make image`
// writes carry the same version: the chart's appVersion, as Helm's loader reads it.
func TestInjectorImage(t *testing.T) {
	image, archive, err := InjectorImage()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := manifests.LoadChart()
	if err != nil {
		t.Fatal(err)
	}
	v := ch.Metadata.AppVersion
	if v == "" || imageTag(image) != v {
		t.Errorf("InjectorImage() image = %q, want the tag %q (the chart's appVersion)", image, v)
	}
	if want := "bin/osm-injector-" + v + ".oci.tar"; archive != want {
		t.Errorf("InjectorImage() archive = %q, want %q", archive, want)
	}
}
