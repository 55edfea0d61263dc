package webhook

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestInjectionPatchGivesTheInjectedPod applies the handler's patch to the admitted pod's
// JSON, as kube-apiserver does, and wants exactly the pod inject.Mutate made.
func TestInjectionPatchGivesTheInjectedPod(t *testing.T) {
	app := corev1.Container{Name: "app", Image: "bookbuyer"}
	cases := map[string]*corev1.Pod{
		"the load tool's bookbuyer pod": benchPod(),
		"a pod without labels or volumes": {
			ObjectMeta: metav1.ObjectMeta{GenerateName: "plain-"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{app}},
		},
		"a Job's pod gets a native sidecar": {
			ObjectMeta: metav1.ObjectMeta{Name: "job-x", Labels: map[string]string{"app": "job"}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{app},
				InitContainers: []corev1.Container{{Name: "setup", Image: "busybox"}}},
		},
		"a pod with annotations and its own volumes": {
			ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Annotations: map[string]string{bootstrap.AnnotationPrefix + "sampling": "5"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{app},
				Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}},
		},
	}
	for name, pod := range cases {
		t.Run(name, func(t *testing.T) {
			pod = pod.DeepCopy()
			pod.APIVersion, pod.Kind, pod.Namespace = "v1", "Pod", testNS
			raw, err := json.Marshal(pod)
			if err != nil {
				t.Fatal(err)
			}
			want := mutateForTest(t, pod)
			h := newRealHandler(t)
			resp := h.Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				UID: "u", Kind: podKind, Namespace: testNS, Operation: admissionv1.Create,
				Object: runtime.RawExtension{Raw: raw}, DryRun: ptr.To(true),
			}})
			if !resp.Allowed || len(resp.Patches) == 0 {
				t.Fatalf("want an allowed answer with a patch, got %+v", resp.Result)
			}
			if fast, ok := injectionPatch(pod, want); !ok || len(fast) != len(resp.Patches) {
				t.Errorf("the handler did not answer with injectionPatch's patch (ok %t): %d ops", ok, len(resp.Patches))
			}
			doc := map[string]any{}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			for _, op := range resp.Patches {
				applyMemberOp(t, doc, op.Operation, op.Path, op.Value)
			}
			patched, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			got := &corev1.Pod{}
			if err := json.Unmarshal(patched, got); err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(got, want) {
				t.Errorf("the patched pod differs from the injected one:\npatched:  %s\ninjected: %s", patched, mustJSON(t, want))
			}
		})
	}
}

// TestInjectionPatchRefusesOtherChanges: a change outside the four fields is left to the
// full diff.
func TestInjectionPatchRefusesOtherChanges(t *testing.T) {
	orig := benchPod()
	changed := orig.DeepCopy()
	changed.Spec.ServiceAccountName = "someone-else"
	if _, ok := injectionPatch(orig, changed); ok {
		t.Error("injectionPatch covered a change of spec.serviceAccountName")
	}
	changed = orig.DeepCopy()
	changed.Annotations = map[string]string{"x": "y"}
	if _, ok := injectionPatch(orig, changed); ok {
		t.Error("injectionPatch covered a change of the annotations")
	}
}

func newRealHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := NewHandler(HandlerOptions{
		Cache: &benchCache{haveConfigMap: true}, Writer: benchWriter{},
		ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config", Log: logr.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// mutateForTest is what the handler's inject.Mutate makes of pod (MeshConfig: tracing on).
func mutateForTest(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	h := newRealHandler(t)
	mesh, err := h.mesh.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := inject.Mutate(pod, inject.Namespace{Name: testNS, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}},
		inject.Env{ControlPlaneNamespace: "osm-system", Defaults: h.defaults, Mesh: mesh, Proxy: h.opts.Proxy, Generate: h.bootstraps.Generate})
	if err != nil || res.Pod == nil || res.Skipped {
		t.Fatalf("inject.Mutate: %v (skipped %t)", err, res.Skipped)
	}
	return res.Pod
}

// applyMemberOp applies an add or remove of an object member, the only operations
// injectionPatch makes.
func applyMemberOp(t *testing.T, doc map[string]any, op, path string, value any) {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	parent := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := parent[p].(map[string]any)
		if !ok {
			t.Fatalf("%s %s: no object at %q", op, path, p)
		}
		parent = next
	}
	last := parts[len(parts)-1]
	switch op {
	case "add":
		data, err := json.Marshal(value)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		parent[last] = v
	case "remove":
		if _, ok := parent[last]; !ok {
			t.Fatalf("remove %s: no such member", path)
		}
		delete(parent, last)
	default:
		t.Fatalf("unexpected operation %s %s", op, path)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
