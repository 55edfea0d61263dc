package webhook

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	evanphx "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// futurePod is a Deployment's pod as an API server newer than our k8s.io/api could send it:
// fields our types do not know in the metadata, the spec, a container, an init container and
// a volume.
const futurePod = `{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "generateName": "web-7d9f-", "namespace": "bookbuyer",
    "labels": {"app": "web"},
    "futureMeta": "kept"
  },
  "spec": {
    "restartPolicy": "Always",
    "futureSpecField": {"mode": "new"},
    "initContainers": [{"name": "migrate", "image": "migrate:1", "futureField": {"x": 1}}],
    "containers": [
      {"name": "web", "image": "web:1", "futureField": {"x": 1}, "ports": [{"containerPort": 8080, "futurePortField": true}]},
      {"name": "cache", "image": "redis:7"}
    ],
    "volumes": [{"name": "data", "emptyDir": {}, "futureVolumeField": [1, 2]}]
  }
}`

// TestPatchKeepsWhatTheUserWrote sends pods as raw JSON through the real Handler and
// inject.Mutate, applies the answer with the JSON patch library kube-apiserver uses, and
// wants: every operation an "add" (but where a case says what is replaced), none of them on a
// list or map that holds something, everything of the admitted JSON still there (arrays only
// grow at their end), and the result decoding to the pod inject.Mutate made.
func TestPatchKeepsWhatTheUserWrote(t *testing.T) {
	cases := map[string]struct {
		raw string
		// replaced are the JSON pointers of the admitted pod that injection may replace
		// (removed, or overwritten by an add).
		replaced []string
		// unknown is a JSON pointer of the admitted pod to a field our types do not know.
		unknown string
	}{
		"a Deployment's pod keeps the fields our types do not know": {
			raw: futurePod, unknown: "/spec/containers/0/futureField",
		},
		"a Job's pod gets envoy as a native sidecar after its own init containers": {
			raw:     strings.Replace(futurePod, `"restartPolicy": "Always"`, `"restartPolicy": "Never"`, 1),
			unknown: "/spec/initContainers/0/futureField",
		},
		"a Job's pod without init containers, volumes or labels gets the lists whole": {
			raw: `{"metadata": {"name": "job-x-1"}, "spec": {"restartPolicy": "OnFailure",
				"containers": [{"name": "work", "image": "work:1", "futureField": 1}]}}`,
			unknown: "/spec/containers/0/futureField",
		},
		"a pod whose lists and labels are null": {
			raw: `{"metadata": {"name": "plain", "labels": null}, "spec": {"initContainers": null, "volumes": null,
				"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"a pod whose lists and labels are empty": {
			raw: `{"metadata": {"name": "plain", "labels": {}}, "spec": {"initContainers": [], "volumes": [],
				"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"a user label that reads like the escaped hash key is left alone": {
			raw: `{"metadata": {"name": "odd", "labels": {"example.com/a~b": "c", "tracing.openservicemesh.io~1bootstrap-hash": "x"}},
				"spec": {"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"a leftover bootstrap volume and hash label are replaced": {
			raw: `{"metadata": {"name": "copied", "labels": {"tracing.openservicemesh.io/bootstrap-hash": "stale", "app": "x"}},
				"spec": {"containers": [{"name": "app", "image": "app:1"}],
				"volumes": [{"name": "data", "emptyDir": {}}, {"name": "envoy-bootstrap", "configMap": {"name": "envoy-bootstrap-app-old"}, "futureVolumeField": 1}]}}`,
			replaced: []string{"/spec/volumes/1", "/metadata/labels/tracing.openservicemesh.io~1bootstrap-hash"},
		},
		"two leftover bootstrap volumes are removed from the last": {
			raw: `{"metadata": {"name": "twice"}, "spec": {"containers": [{"name": "app", "image": "app:1"}],
				"volumes": [{"name": "envoy-bootstrap", "configMap": {"name": "envoy-bootstrap-app-old"}}, {"name": "data", "emptyDir": {}},
				{"name": "envoy-bootstrap", "configMap": {"name": "envoy-bootstrap-app-older"}}]}}`,
			replaced: []string{"/spec/volumes/0", "/spec/volumes/2"},
		},
		"metadata with neither name nor labels is kept": {
			raw: `{"metadata": {"annotations": {"note": "kept"}, "futureMeta": 1}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"a spec without containers is kept": {
			raw: `{"metadata": {"name": "bare"}, "spec": {"restartPolicy": "Never", "futureSpecField": true}}`,
		},
		"a pod without metadata gets it": {
			raw: `{"kind": "Pod", "spec": {"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"a pod without a spec gets one": {
			raw: `{"metadata": {"name": "empty"}, "spec": null}`,
		},
		"the load tool's bookbuyer pod": {raw: string(mustJSON(t, benchPod()))},
		"a pod with annotations gets the scrape annotations one by one": {
			raw: `{"metadata": {"name": "annotated", "annotations": {"example.com/a~b": "c"}},
				"spec": {"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"a pod whose annotations are null or empty gets them whole": {
			raw: `{"metadata": {"name": "null-ann", "annotations": null, "labels": {}},
				"spec": {"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
		"the app's own prometheus.io annotations are left as they are, and none added": {
			raw: `{"metadata": {"name": "scraped", "annotations": {"prometheus.io/port": "9102", "prometheus.io/scrape": "false"}},
				"spec": {"containers": [{"name": "app", "image": "app:1"}]}}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			raw := []byte(tc.raw)
			if tc.unknown != "" {
				requireUnknownField(t, raw, tc.unknown)
			}
			pod := &corev1.Pod{}
			if err := decodePod(raw, pod); err != nil {
				t.Fatal(err)
			}
			want := mutateForTest(t, pod)

			resp := newRealHandler(t).Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				UID: "u", Kind: podKind, Namespace: testNS, Operation: admissionv1.Create,
				Object: runtime.RawExtension{Raw: raw}, DryRun: ptr.To(true),
			}})
			if !resp.Allowed || len(resp.Patches) == 0 {
				t.Fatalf("want an allowed answer with a patch, got %+v", resp.Result)
			}
			admitted := decodeJSON(t, raw)
			for _, op := range resp.Patches {
				target, found := lookup(admitted, op.Path)
				switch {
				case op.Operation == "remove" || op.Operation == "add" && found && !isEmpty(target) && !insertion(admitted, op.Path):
					if !slices.Contains(tc.replaced, op.Path) {
						t.Errorf("%s %s: it would replace what the user wrote: %s", op.Operation, op.Path, mustJSON(t, target))
					}
				case op.Operation != "add":
					t.Errorf("%s %s: want only add operations", op.Operation, op.Path)
				}
			}

			patched := applyPatch(t, raw, mustJSON(t, resp.Patches))
			kept := raw
			for i := len(tc.replaced) - 1; i >= 0; i-- { // the last first, as indexes shift
				kept = applyPatch(t, kept, mustJSON(t, []map[string]string{{"op": "remove", "path": tc.replaced[i]}}))
			}
			if where := notWithin(decodeJSON(t, kept), decodeJSON(t, patched), ""); where != "" {
				t.Errorf("the patch changed what the user wrote at %s; admitted:\n%s", where, raw)
			}
			got := &corev1.Pod{}
			if err := decodePod(patched, got); err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(got, want) {
				t.Errorf("the patched pod differs from inject.Mutate's (-injected +patched):\n%s", cmp.Diff(want, got))
			}
		})
	}
}

// requireUnknownField fails unless the member at pointer of raw is lost in a round trip
// through our types: the case would not show that the patch keeps what they do not know.
func requireUnknownField(t *testing.T, raw []byte, pointer string) {
	t.Helper()
	if _, ok := lookup(decodeJSON(t, raw), pointer); !ok {
		t.Fatalf("the admitted pod has nothing at %s", pointer)
	}
	pod := &corev1.Pod{}
	if err := decodePod(raw, pod); err != nil {
		t.Fatal(err)
	}
	if _, ok := lookup(decodeJSON(t, mustJSON(t, pod)), pointer); ok {
		t.Fatalf("our types know %s: the case needs a field they do not", pointer)
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
		t.Fatalf("inject.Mutate: %v (skipped %t: %s)", err, res.Skipped, res.Reason)
	}
	return res.Pod
}

// applyPatch applies patch to doc as kube-apiserver applies a webhook's JSON patch.
func applyPatch(t *testing.T, doc, patch []byte) []byte {
	t.Helper()
	p, err := evanphx.DecodePatch(patch)
	if err != nil {
		t.Fatalf("decoding the patch %s: %v", patch, err)
	}
	out, err := p.Apply(doc)
	if err != nil {
		var ops []string
		for _, op := range p {
			path, _ := op.Path()
			ops = append(ops, op.Kind()+" "+path)
		}
		t.Fatalf("applying the patch [%s]: %v", strings.Join(ops, ", "), err)
	}
	return out
}

// notWithin is the JSON pointer (under at) of the first part of want that got lacks or has
// otherwise; "" when got holds all of want. Objects may gain members, arrays elements at
// their end, and a null may become a value; any other value must be equal.
func notWithin(want, got any, at string) string {
	switch w := want.(type) {
	case nil:
		return ""
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return at + " (not an object)"
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return at + "/" + pointerToken(k) + " (missing)"
			}
			if where := notWithin(wv, gv, at+"/"+pointerToken(k)); where != "" {
				return where
			}
		}
		return ""
	case []any:
		// The elements, in their order, with what the patch inserted between them.
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return at + " (not an array as long)"
		}
		j := 0
		for i := range w {
			for j < len(g) && notWithin(w[i], g[j], "") != "" {
				j++
			}
			if j == len(g) {
				return at + "/" + strconv.Itoa(i)
			}
			j++
		}
		return ""
	default:
		if !reflect.DeepEqual(want, got) {
			return at
		}
		return ""
	}
}

// insertion reports an "add" at pointer that inserts into an array of doc (its last token an
// index): RFC 6902 shifts the elements there, it replaces none.
func insertion(doc any, pointer string) bool {
	i := strings.LastIndex(pointer, "/")
	parent, ok := lookup(doc, pointer[:i])
	if _, isArray := parent.([]any); !ok || !isArray {
		return false
	}
	_, err := strconv.Atoi(pointer[i+1:])
	return err == nil
}

// lookup is the value at a JSON pointer of doc, and whether there is one.
func lookup(doc any, pointer string) (any, bool) {
	if pointer == "" {
		return doc, true
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// isEmpty is a null, an empty array or an empty object: nothing an add over it loses.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pointerToken escapes a JSON pointer token as RFC 6901 says, for the test's own use.
func pointerToken(token string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(token)
}
