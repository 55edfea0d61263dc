package inject_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

// demoDir holds the guide's bookstore demo.
const demoDir = "../../manifests/demo"

// templateHash is the pod-template-hash of the demo pods built from Deployments.
const templateHash = "5d7f8c9b4"

// splitDocs splits a multi-document YAML stream, dropping blank documents.
func splitDocs(t testing.TB, data []byte) [][]byte {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("splitting YAML: %v", err)
		}
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
}

// demoDeployments are the Deployments of the demo manifests, by name.
func demoDeployments(t testing.TB) map[string]*appsv1.Deployment {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(demoDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no demo manifests in %s: %v", demoDir, err)
	}
	out := map[string]*appsv1.Deployment{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitDocs(t, data) {
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if meta.Kind != "Deployment" {
				continue
			}
			d := &appsv1.Deployment{}
			if err := yaml.UnmarshalStrict(doc, d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[d.Name] = d
		}
	}
	return out
}

// podOf is the pod the ReplicaSet of Deployment d would create: its template, a generated
// name, the pod-template-hash label and the ReplicaSet as controller.
func podOf(d *appsv1.Deployment) *corev1.Pod {
	rs := d.Name + "-" + templateHash
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: *d.Spec.Template.ObjectMeta.DeepCopy(),
		Spec:       *d.Spec.Template.Spec.DeepCopy(),
	}
	p.Namespace = d.Namespace
	p.GenerateName = rs + "-"
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = templateHash
	p.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: "00000000-0000-0000-0000-000000000001",
		Controller: new(true), BlockOwnerDeletion: new(true),
	}}
	return p
}

// demoNamespace is a demo namespace, labelled as the demo manifests label it.
func demoNamespace(name string, annotations map[string]string) inject.Namespace {
	return inject.Namespace{Name: name, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}, Annotations: annotations}
}

// compareGolden compares got with the golden file path structurally (document by document,
// as YAML values), or rewrites the file with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(yamlValues(t, want), yamlValues(t, got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// yamlValues decodes every document of a stream into plain values.
func yamlValues(t *testing.T, data []byte) []any {
	t.Helper()
	var out []any
	for _, d := range splitDocs(t, data) {
		var v any
		if err := yaml.Unmarshal(d, &v); err != nil {
			t.Fatalf("decoding YAML: %v\n%s", err, d)
		}
		out = append(out, v)
	}
	return out
}

// toYAML marshals objects as a multi-document stream.
func toYAML(t testing.TB, objs ...any) []byte {
	t.Helper()
	var parts []string
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	return []byte(strings.Join(parts, "---\n"))
}
