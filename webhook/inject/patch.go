package inject

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// AppendPatch is the JSON patch (RFC 6902) that adds what injection added (Result.Added) to
// a pod: raw is its JSON as the API server sent it (or as osm inject read it), pod the same
// decoded into our types. It is the one way injection is written: the webhook answers with
// it, and osm inject applies it to the object it read (Manifest), so both write the same
// operations.
//
// Why append-only. Our k8s.io/api types are those we compiled against; the API server may be
// newer, and a pod may carry fields they do not know (a new container or spec field). A patch
// that sets a list whole, or a diff of the raw JSON against the typed pod re-encoded, would
// silently drop such fields from the user's own containers. So every operation is an "add"
// of something injection made, at a position of a list (the init containers at its start,
// "/spec/initContainers/0" and "/1", inserting before the user's; the volume at its end,
// "/spec/volumes/-") or as a new member, and nothing the user wrote is rewritten. controller-runtime's defaulter reaches the
// same end the other way round: it diffs the whole pods, then drops the removals the scheme
// alone caused (dropSchemeRemovals); Istio's injector diffs a re-encoding of the typed pod,
// so that unknown fields are on neither side. Appending needs neither diff and is cheaper.
//
// RFC 6902 section 4.1: the parent of an added member must exist, and an index or "-" adds
// only into an existing array. So a list that is empty, null or missing is added whole (it holds nothing
// to keep), and a missing or null "metadata" or "spec" is first added as {}. The labels are
// set one by one when the pod has some ("add" replaces a member that exists, here a stale
// bootstrap-hash label), or added whole when it has none; the annotations likewise (they are
// Prometheus' scrape annotations, added only to a pod without any, so no key exists).
//
// The one exception to "add": a volume or container of the pod with the name of one injection
// adds is removed first, as Inject replaces it. Decide and Conflicts
// refuse pods that carry the sidecar's containers or a volume of the user's by our names, so
// what is removed is a volume of ours left over in a copied spec (leftoverVolume).
func AppendPatch(raw []byte, pod *corev1.Pod, add Additions) ([]jsonpatch.JsonPatchOperation, error) {
	hasMeta, hasSpec, err := parents(raw, pod)
	if err != nil {
		return nil, err
	}
	// Room for the usual patch: the labels, the annotations, osm-init, envoy and the volumes.
	ops := make([]jsonpatch.JsonPatchOperation, 0, 6)
	addOp := func(path string, value any) {
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: path, Value: value})
	}

	if !hasMeta && (len(add.Labels) > 0 || len(add.Annotations) > 0) {
		addOp("/metadata", map[string]any{})
	}
	addToMap := func(path string, have, items map[string]string) {
		switch {
		case len(items) == 0:
		case len(have) == 0:
			addOp(path, items)
		default:
			for _, k := range slices.Sorted(maps.Keys(items)) {
				addOp(path+"/"+escapePointer(k), items[k])
			}
		}
	}
	addToMap("/metadata/labels", pod.Labels, add.Labels)
	// Only when the pod has no prometheus.io/ annotation (inject.Parts), so every key is new.
	addToMap("/metadata/annotations", pod.Annotations, add.Annotations)

	if !hasSpec && (len(add.InitContainers) > 0 || len(add.Volumes) > 0) {
		addOp("/spec", map[string]any{})
	}
	// The typed lists stand for the JSON's: decoding keeps every element of a JSON array, in
	// order, so their lengths and indexes are the JSON's, and an empty one is an empty, null
	// or missing list, over which an "add" of the whole list is right in all three cases.
	ops = addToList(ops, "/spec/initContainers", true, pod.Spec.InitContainers, add.InitContainers, containerName)
	ops = addToList(ops, "/spec/volumes", false, pod.Spec.Volumes, add.Volumes, volumeName)
	return ops, nil
}

// addToList appends to ops the operations that add items to the list at path, which holds
// have: at its start when first, else at its end. A list that holds nothing (empty, null or
// missing) is added whole; otherwise the elements of the same name as an item are removed
// (the last first, so that the indexes stay right) and the items added one by one, at
// indexes 0, 1, ... or at "-" (either adds into an existing array, even one the removals
// left empty).
func addToList[T any](ops []jsonpatch.JsonPatchOperation, path string, first bool, have, items []T, name func(*T) string) []jsonpatch.JsonPatchOperation {
	if len(items) == 0 {
		return ops
	}
	if len(have) == 0 {
		return append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: path, Value: items})
	}
	for i := len(have) - 1; i >= 0; i-- {
		for j := range items {
			if name(&have[i]) == name(&items[j]) {
				ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "remove", Path: path + "/" + strconv.Itoa(i)})
				break
			}
		}
	}
	for i := range items {
		at := path + "/-"
		if first {
			at = path + "/" + strconv.Itoa(i)
		}
		// A pointer: boxing the element itself would copy it.
		ops = append(ops, jsonpatch.JsonPatchOperation{Operation: "add", Path: at, Value: &items[i]})
	}
	return ops
}

func containerName(c *corev1.Container) string { return c.Name }
func volumeName(v *corev1.Volume) string       { return v.Name }

// parents reports whether the admitted pod's JSON has a "metadata" and a "spec" object. The
// typed pod proves it for nearly every pod (a name, a namespace or a label is only decoded
// from a metadata object, a container only from a spec object); otherwise the JSON is read
// again for those two members alone.
func parents(raw []byte, pod *corev1.Pod) (hasMeta, hasSpec bool, err error) {
	hasMeta = pod.Name != "" || pod.GenerateName != "" || pod.Namespace != "" || len(pod.Labels) > 0 || len(pod.Annotations) > 0
	hasSpec = len(pod.Spec.Containers) > 0
	if hasMeta && hasSpec {
		return true, true, nil
	}
	// A pointer stays nil for a member that is missing or null; the members' contents are
	// skipped. The pod decoded, so both are objects when present.
	var top struct {
		Metadata *struct{} `json:"metadata"`
		Spec     *struct{} `json:"spec"`
	}
	if err := utiljson.Unmarshal(raw, &top); err != nil {
		return false, false, fmt.Errorf("when reading the pod's metadata and spec: %w", err)
	}
	return top.Metadata != nil, top.Spec != nil, nil
}

// pointerEscaper escapes a reference token of a JSON pointer (RFC 6901 section 3): "~" is
// written "~0" and "/" "~1", in one pass, so that a "~1" in a key stays "~01".
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(token string) string { return pointerEscaper.Replace(token) }
