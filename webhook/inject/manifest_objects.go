package inject

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	evanphx "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// templatePaths are where the pod template of each workload kind lives, by API group.
var templatePaths = map[string]map[string][]string{
	"apps": {
		bootstrap.KindDeployment:  {"spec", "template"},
		bootstrap.KindStatefulSet: {"spec", "template"},
		bootstrap.KindDaemonSet:   {"spec", "template"},
		bootstrap.KindReplicaSet:  {"spec", "template"},
	},
	"batch": {
		bootstrap.KindJob:     {"spec", "template"},
		bootstrap.KindCronJob: {"spec", "jobTemplate", "spec", "template"},
	},
}

// object injects the pod or pod template obj holds, if any, in place; it reports whether
// obj changed.
func (m *manifest) object(obj map[string]any) (bool, error) {
	kind, group := kindOf(obj), groupOf(obj)
	if items, ok := obj["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		return m.list(items)
	}
	if group == "" && kind == "Pod" {
		return m.pod(obj)
	}
	if path, ok := templatePaths[group][kind]; ok {
		return m.template(obj, kind, path)
	}
	return false, nil
}

// list injects the items of a List.
func (m *manifest) list(items []any) (bool, error) {
	changed := false
	var errs []error
	for i, item := range items {
		obj, ok := item.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("item %d: not a Kubernetes object", i))
			continue
		}
		c, err := m.object(obj)
		if err != nil {
			errs = append(errs, fmt.Errorf("item %d: %w", i, err))
		}
		changed = changed || c
	}
	return changed, errors.Join(errs...)
}

// pod injects a bare Pod.
func (m *manifest) pod(obj map[string]any) (bool, error) {
	where := "Pod " + objectName(obj, m.opts.DefaultNamespace)
	pod, err := decodeChecked[corev1.Pod](obj, "")
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	ns := pod.Namespace
	if ns == "" {
		ns = m.opts.DefaultNamespace
	}
	report := ObjectReport{Kind: "Pod", Namespace: ns, Name: podNameOf(pod)}
	in := pod.DeepCopy()
	in.Namespace = ns
	res, err := mutate(in, m.namespace(ns), m.opts.Env, bootstrap.OwnerOf(in))
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	if res.Skipped {
		report.Reason = res.Reason
		m.reports = append(m.reports, report)
		return false, nil
	}
	if err := applyPatch(obj, pod, res.Added); err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	report.Injected = true
	m.reports = append(m.reports, report)
	m.addConfigMap(res.ConfigMap, pod.Namespace)
	return true, nil
}

// template injects the pod template at path in a workload of kind.
func (m *manifest) template(obj map[string]any, kind string, path []string) (bool, error) {
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	written, _ := meta["namespace"].(string)
	ns := written
	if ns == "" {
		ns = m.opts.DefaultNamespace
	}
	where := kind + " " + ns + "/" + name
	tmpl, ok := nestedMap(obj, path)
	if !ok {
		return false, fmt.Errorf("%s: no pod template at %s", where, strings.Join(path, "."))
	}
	spec, err := decodeChecked[corev1.PodTemplateSpec](tmpl, strings.Join(path, "."))
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	pod := &corev1.Pod{ObjectMeta: *spec.ObjectMeta.DeepCopy(), Spec: *spec.Spec.DeepCopy()}
	pod.Namespace = ns
	if pod.Name == "" && pod.GenerateName == "" {
		pod.GenerateName = name + "-"
	}
	res, err := mutate(pod, m.namespace(ns), m.opts.Env, bootstrap.WorkloadOf(kind, name))
	if err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	report := ObjectReport{Kind: kind, Namespace: ns, Name: name}
	if res.Skipped {
		report.Reason = res.Reason
		m.reports = append(m.reports, report)
		return false, nil
	}
	// The template as read, as the pod the patch is computed against: its JSON is tmpl's.
	read := &corev1.Pod{ObjectMeta: spec.ObjectMeta, Spec: spec.Spec}
	if err := applyPatch(tmpl, read, res.Added); err != nil {
		return false, fmt.Errorf("%s: %w", where, err)
	}
	report.Injected = true
	m.reports = append(m.reports, report)
	m.addConfigMap(res.ConfigMap, written)
	return true, nil
}

// applyPatch writes into orig, a pod or pod template as read, what injection added (add),
// through the webhook's own append-only patch (AppendPatch) applied to orig's JSON: osm
// inject and the webhook write injection the same way, and what the patch does not touch
// stays as read (fields our types do not know, the formatting of quantities, omitted
// defaults). pod is orig decoded into our types.
func applyPatch(orig map[string]any, pod *corev1.Pod, add Additions) error {
	raw, err := json.Marshal(orig)
	if err != nil {
		return fmt.Errorf("when encoding the object to patch: %w", err)
	}
	ops, err := AppendPatch(raw, pod, add)
	if err != nil {
		return err
	}
	opsJSON, err := json.Marshal(ops)
	if err != nil {
		return fmt.Errorf("when encoding the injection patch: %w", err)
	}
	patch, err := evanphx.DecodePatch(opsJSON)
	if err != nil {
		return fmt.Errorf("when reading the injection patch: %w", err)
	}
	patched, err := patch.Apply(raw)
	if err != nil {
		return fmt.Errorf("when applying the injection patch: %w", err)
	}
	var out map[string]any
	if err := utiljson.Unmarshal(patched, &out); err != nil {
		return fmt.Errorf("when reading the patched object: %w", err)
	}
	clear(orig)
	maps.Copy(orig, out)
	return nil
}

// nestedMap is the map at path in obj.
func nestedMap(obj map[string]any, path []string) (map[string]any, bool) {
	cur := obj
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

// podNameOf is a pod's name, or its generateName.
func podNameOf(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Name
	}
	return pod.GenerateName
}

// objectName is namespace/name of an object (its generateName when it has no name), for
// messages.
func objectName(obj map[string]any, defaultNS string) string {
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if name == "" {
		name, _ = meta["generateName"].(string)
	}
	ns, _ := meta["namespace"].(string)
	if ns == "" {
		ns = defaultNS
	}
	return ns + "/" + name
}
