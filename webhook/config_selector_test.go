package webhook

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestNamespaceSelectorMatchesNamespaceInMesh holds the API server's side of the namespace
// rule (the configuration's namespaceSelector) equal to the core's (inject.NamespaceInMesh):
// for every namespace, the API server calls the webhook exactly when the core says the
// namespace is in the mesh. The API server labels every namespace with its name
// (kubernetes.io/metadata.name), as it is set here.
func TestNamespaceSelectorMatchesNamespaceInMesh(t *testing.T) {
	values := []*string{nil, ptr.To(""), ptr.To("enabled"), ptr.To("Enabled"), ptr.To("true"), ptr.To("disabled")}
	names := []string{"shop", "kube-system", "kube-public", "osm-system", "mesh", "default"}
	for _, cp := range []string{"osm-system", "mesh", "kube-system"} {
		hook := render(t, ConfigOptions{ControlPlaneNamespace: cp, FailurePolicy: "Fail", TimeoutSeconds: 10})
		sel, err := metav1.LabelSelectorAsSelector(hook.Webhooks[0].NamespaceSelector)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			for _, v := range values {
				ls := map[string]string{corev1.LabelMetadataName: name}
				if v != nil {
					ls[bootstrap.InjectionLabel] = *v
				}
				in, reason := inject.NamespaceInMesh(inject.Namespace{Name: name, Labels: ls}, cp)
				if matched := sel.Matches(labels.Set(ls)); matched != in {
					t.Errorf("control plane %s, namespace %s labels %v: the selector matches %t, NamespaceInMesh says %t (%s)",
						cp, name, ls, matched, in, reason)
				}
			}
		}
	}
}
