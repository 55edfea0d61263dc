package version

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/osm-tracing/osm-tracing/manifests"
)

// Set at build time with -ldflags -X (see the package documentation).
var (
	Version   = "dev"
	GitCommit = ""
	BuildDate = ""
)

// InjectorDeployment is the Deployment of the injector in the control-plane namespace.
const InjectorDeployment = "osm-injector"

// Client describes the CLI's version, e.g. "v0.1.0 (commit abc1234, built 2026-01-01)".
func Client() string {
	v, commit := Version, GitCommit
	if commit == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 7 {
					commit = s.Value[:7]
				}
			}
		}
	}
	var details []string
	if commit != "" {
		details = append(details, "commit "+commit)
	}
	if BuildDate != "" {
		details = append(details, "built "+BuildDate)
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}

// Injector describes the injector's version from its Deployment in namespace ns; found is
// false when there is none.
func Injector(ctx context.Context, cs kubernetes.Interface, ns string) (desc string, found bool, err error) {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, InjectorDeployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("not installed in namespace %s (no Deployment %s; is the mesh in another namespace? use --osm-namespace)",
			ns, InjectorDeployment), false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("when reading Deployment %s/%s: %w", ns, InjectorDeployment, err)
	}
	return DescribeDeployment(d), true, nil
}

// DescribeDeployment describes the injector's Deployment: version label, image and readiness.
func DescribeDeployment(d *appsv1.Deployment) string {
	image := ""
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == InjectorDeployment || image == "" {
			image = c.Image
		}
	}
	v := d.Labels["app.kubernetes.io/version"]
	if v == "" {
		v = imageTag(image)
	}
	if v == "" {
		v = "unknown"
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return fmt.Sprintf("%s (image %s; Deployment %s/%s, %d/%d ready)", v, image, d.Namespace, d.Name,
		d.Status.ReadyReplicas, want)
}

// imageTag returns the tag of an image reference, or "" when it has none.
func imageTag(image string) string {
	ref, _, _ := strings.Cut(image, "@")
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[i+1:]
	}
	return ""
}

// InjectorImage names the injector image of the chart this CLI carries: the image `osm
// install` deploys unless osm.injector.image is set, and the archive `make image` builds for
// it in the repository's bin/ folder. Both carry the chart's appVersion.
func InjectorImage() (image, archive string, err error) {
	img, err := manifests.DefaultInjectorImage()
	if err != nil {
		return "", "", err
	}
	return img.Ref(), "bin/" + img.Archive(), nil
}
