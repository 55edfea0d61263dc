package namespaces

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestCheckInjectable(t *testing.T) {
	tests := map[string]struct {
		ns  string
		err string
	}{
		"an application namespace":          {ns: "bookstore"},
		"kube-system":                       {ns: "kube-system", err: "never injected"},
		"kube-public":                       {ns: "kube-public", err: "never injected"},
		"the control plane's own namespace": {ns: "osm-system", err: "control plane's namespace"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckInjectable(tc.ns, "osm-system")
			if (err != nil) != (tc.err != "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("CheckInjectable(%q) = %v, want error containing %q", tc.ns, err, tc.err)
			}
		})
	}
}

func TestAddListRemove(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bookstore",
			Annotations: map[string]string{"tracing.openservicemesh.io/sampling": "10", "other": "x"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bookbuyer"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}},
		// Labelled, but not in the mesh by the core's rule: a value other than enabled, and
		// the control plane's own namespace.
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "typo",
			Labels: map[string]string{"openservicemesh.io/sidecar-injection": "Enabled"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "osm-system",
			Labels: map[string]string{"openservicemesh.io/sidecar-injection": "enabled"}}},
	)
	var out bytes.Buffer
	if err := Add(ctx, cs, "osm-system", []string{"kube-system", "bookstore"}, &out); err == nil {
		t.Fatal("Add accepted kube-system")
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "bookstore", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Add(ctx, cs, "osm-system", []string{"bookstore", "bookbuyer"}, &out); err != nil {
		t.Fatal(err)
	}
	if err := Add(ctx, cs, "osm-system", []string{"missing"}, &out); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Add of a missing namespace: %v", err)
	}
	entries, err := List(ctx, cs, "osm-system")
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := Print(&table, entries); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAMESPACE", "bookbuyer    enabled   ", "bookstore    enabled   ", "sampling=10",
		`typo         Enabled (not injected: namespace "typo" is not labelled openservicemesh.io/sidecar-injection=enabled (its value is "Enabled"))`,
		"osm-system   enabled (not injected: namespace osm-system is the control plane's)"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("list output lacks %q:\n%s", want, table.String())
		}
	}
	if strings.Contains(table.String(), "quiet") {
		t.Errorf("list shows an unlabelled namespace:\n%s", table.String())
	}
	if err := Remove(ctx, cs, "osm-system", []string{"bookstore", "quiet", "typo"}, &out); err != nil {
		t.Fatal(err)
	}
	ns, _ := cs.CoreV1().Namespaces().Get(ctx, "bookstore", metav1.GetOptions{})
	if _, ok := ns.Labels["openservicemesh.io/sidecar-injection"]; ok {
		t.Errorf("remove left the label: %v", ns.Labels)
	}
	if !strings.Contains(out.String(), "Namespace [quiet] is not in the mesh") {
		t.Errorf("remove of an unlabelled namespace said:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Namespace [typo]: removed its openservicemesh.io/sidecar-injection label; it was not in the mesh") {
		t.Errorf("remove of a namespace labelled with another value said:\n%s", out.String())
	}
}

func TestPrintEmpty(t *testing.T) {
	var out bytes.Buffer
	if err := Print(&out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "osm namespace add") {
		t.Errorf("empty list says %q", out.String())
	}
}
