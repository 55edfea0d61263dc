package inject

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// ManifestOptions configure Manifest.
type ManifestOptions struct {
	// Env is the control-plane namespace, defaults, MeshConfig and proxy config, as for Mutate.
	Env Env
	// DefaultNamespace is the namespace assumed for objects that name none ("default" when
	// empty): the rules of Decide and the Namespace object's annotations are those of this
	// namespace. Such objects, and the ConfigMaps they mount, are still written without a
	// namespace, so that kubectl apply -n puts them together.
	DefaultNamespace string
	// NamespaceAnnotations are the annotations of every object's namespace. They are laid
	// over those of a Namespace object of the same name found in the stream, if any.
	NamespaceAnnotations map[string]string
}

// ObjectReport says what Manifest did with one object that holds a pod (template).
type ObjectReport struct {
	Kind      string
	Namespace string
	Name      string
	// Injected is false when the pod was skipped; Reason then says why.
	Injected bool
	Reason   string
}

// String is "Kind namespace/name injected" or "Kind namespace/name skipped: reason".
func (r ObjectReport) String() string {
	if r.Injected {
		return r.Kind + " " + r.Namespace + "/" + r.Name + " injected"
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name + " skipped: " + r.Reason
}

// ManifestSource is one stream of YAML documents; Name (a file name, say) prefixes its
// errors when set.
type ManifestSource struct {
	Name   string
	Reader io.Reader
}

// Manifest reads a stream of YAML (or JSON) documents, injects the pods and the pod
// templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs (also
// inside a v1 List), and returns the stream with the injected objects, followed by the
// bootstrap ConfigMaps they mount (one per namespace and name) as multi-document YAML. The
// reports say, object by object, what was injected or skipped and why.
//
// A template is treated as a pod of the workload (its service name is the workload's name).
// Injection does not depend on the namespace's label (asking for it is the opt-in), but the
// pod's opt-out annotation and the other rules of Decide still apply. Objects that hold no
// pod, and objects whose pod is skipped, are written back as they were read, byte for byte;
// an injected object is the object as read with the webhook's own patch (AppendPatch)
// applied, so it keeps every field it had (unknown ones too), with its keys sorted.
//
// Every error (a malformed document, a bad annotation) is reported, joined, each naming the
// object (Kind namespace/name) or the document; the output is then nil.
func Manifest(r io.Reader, opts ManifestOptions) ([]byte, []ObjectReport, error) {
	return Manifests([]ManifestSource{{Reader: r}}, opts)
}

// Manifests is Manifest over several streams, written out as one: a Namespace
// object in one applies to the objects of all, and each ConfigMap is written once.
func Manifests(sources []ManifestSource, opts ManifestOptions) ([]byte, []ObjectReport, error) {
	var docs []*document
	var errs []error
	for _, src := range sources {
		ds, err := readDocuments(src)
		docs = append(docs, ds...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = corev1.NamespaceDefault
	}
	namespaces, err := namespaceAnnotations(docs)
	if err != nil {
		return nil, nil, err
	}
	m := &manifest{opts: opts, namespaces: namespaces, configMaps: map[string]bool{}}
	for _, d := range docs {
		if d.obj == nil {
			continue
		}
		changed, err := m.object(d.obj)
		if err != nil {
			errs = append(errs, d.wrap(err))
		}
		d.changed = changed
	}
	errs = append(errs, m.checkIdleNamespaces()...)
	if len(errs) > 0 {
		return nil, m.reports, errors.Join(errs...)
	}
	out, err := m.render(docs)
	return out, m.reports, err
}

// document is one YAML document of a stream.
type document struct {
	source  string         // the stream's name, for messages
	index   int            // 1-based, for messages
	raw     []byte         // as read
	obj     map[string]any // nil for a document of comments only
	changed bool
}

// wrap prefixes err with the stream's name, if it has one.
func (d *document) wrap(err error) error {
	if d.source == "" {
		return err
	}
	return fmt.Errorf("%s: %w", d.source, err)
}

// readDocuments splits a stream and decodes every document that is not only comments;
// blank documents are dropped.
func readDocuments(src ManifestSource) ([]*document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(src.Reader))
	var docs []*document
	var errs []error
	for i := 1; ; i++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		d := &document{source: src.Name, index: i, raw: raw}
		if err != nil {
			return nil, d.wrap(fmt.Errorf("document %d: %w", i, err))
		}
		switch {
		case len(bytes.TrimSpace(raw)) == 0:
			continue
		case !onlyComments(raw):
			obj, err := decodeObject(raw)
			if err != nil {
				errs = append(errs, d.wrap(fmt.Errorf("document %d: %w", i, err)))
				continue
			}
			d.obj = obj
		}
		docs = append(docs, d)
	}
	return docs, errors.Join(errs...)
}

// decodeObject decodes a document into a JSON-like map (integers as int64, as the API
// machinery's unstructured objects hold them).
func decodeObject(raw []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	var v any
	if err := utiljson.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a Kubernetes object: the document is not a mapping")
	}
	if k, _ := obj["kind"].(string); k == "" {
		return nil, errors.New("not a Kubernetes object: it has no kind")
	}
	return obj, nil
}

// onlyComments reports a document of blank lines and comments.
func onlyComments(raw []byte) bool {
	for line := range bytes.Lines(raw) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// namespaceAnnotations maps every Namespace object of the stream, at the top or inside a
// List, to its annotations. A Namespace is decoded as the API server would: a value of the
// wrong type (an unquoted number as an annotation, say) is an error naming its path, and so
// is a Namespace without a name; every such error is reported, joined.
func namespaceAnnotations(docs []*document) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var errs []error
	for _, d := range docs {
		if d.obj == nil {
			continue
		}
		for _, err := range collectNamespaces(d.obj, "", out) {
			errs = append(errs, d.wrap(err))
		}
	}
	return out, errors.Join(errs...)
}

// collectNamespaces adds the Namespace obj is, or those of the List it is, to out; where
// prefixes errors ("item 2: ").
func collectNamespaces(obj map[string]any, where string, out map[string]map[string]string) []error {
	if items, ok := obj["items"].([]any); ok && strings.HasSuffix(kindOf(obj), "List") {
		var errs []error
		for i, item := range items {
			if o, ok := item.(map[string]any); ok {
				errs = append(errs, collectNamespaces(o, fmt.Sprintf("%sitem %d: ", where, i), out)...)
			}
		}
		return errs
	}
	if kindOf(obj) != "Namespace" || groupOf(obj) != "" {
		return nil
	}
	ns, err := decodeChecked[corev1.Namespace](obj, "")
	if err != nil {
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		return []error{fmt.Errorf("%sNamespace %s: %w", where, name, err)}
	}
	if ns.Name == "" {
		return []error{fmt.Errorf("%sa Namespace without metadata.name", where)}
	}
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	out[ns.Name] = ns.Annotations
	return nil
}

// manifest is the state of one Manifest.
type manifest struct {
	opts       ManifestOptions
	namespaces map[string]map[string]string
	reports    []ObjectReport
	configMaps map[string]bool // namespace/name already listed
	cms        []*corev1.ConfigMap
	used       map[string]bool // namespaces an injected object was resolved in
}

// namespace is what Decide and Resolve see of namespace name: labelled for injection (osm
// inject is the opt-in), annotated as the stream's Namespace object and the options say.
func (m *manifest) namespace(name string) Namespace {
	if m.used == nil {
		m.used = map[string]bool{}
	}
	m.used[name] = true
	ann := maps.Clone(m.namespaces[name])
	if len(m.opts.NamespaceAnnotations) > 0 {
		if ann == nil {
			ann = map[string]string{}
		}
		maps.Copy(ann, m.opts.NamespaceAnnotations)
	}
	return Namespace{
		Name:        name,
		Labels:      MeshNamespaceLabels(),
		Annotations: ann,
	}
}

// checkIdleNamespaces validates the annotations of each Namespace object of the input that
// no pod or pod template of the input lives in, as the webhook validates them for a pod:
// by resolving a pod of one container there. A namespace with pods has been checked with
// them, and its errors are not repeated. Errors are sorted by namespace.
func (m *manifest) checkIdleNamespaces() []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m.namespaces)) {
		if m.used[name] {
			continue
		}
		probe := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: name},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		}
		if _, err := Mutate(probe, m.namespace(name), m.opts.Env); err != nil {
			errs = append(errs, fmt.Errorf("Namespace %s: %w", name, err))
		}
	}
	return errs
}

// addConfigMap lists cm once per namespace and name. Its namespace is the one written in the
// object that mounts it: none for an object that names none, so that kubectl apply -n puts
// both in the same namespace.
func (m *manifest) addConfigMap(cm *corev1.ConfigMap, namespace string) {
	if cm.Namespace != namespace {
		cm = cm.DeepCopy()
		cm.Namespace = namespace
	}
	key := cm.Namespace + "/" + cm.Name
	if !m.configMaps[key] {
		m.configMaps[key] = true
		m.cms = append(m.cms, cm)
	}
}

// render writes the documents, unchanged ones as read, then the ConfigMaps.
func (m *manifest) render(docs []*document) ([]byte, error) {
	var out bytes.Buffer
	write := func(b []byte) {
		if out.Len() > 0 {
			out.WriteString("---\n")
		}
		out.Write(bytes.TrimRight(b, " \t\r\n"))
		out.WriteByte('\n')
	}
	for _, d := range docs {
		if !d.changed {
			write(d.raw)
			continue
		}
		b, err := yaml.Marshal(d.obj)
		if err != nil {
			return nil, d.wrap(fmt.Errorf("document %d: when writing the injected object: %w", d.index, err))
		}
		write(b)
	}
	for _, cm := range m.cms {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm)
		if err != nil {
			return nil, fmt.Errorf("when writing ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		if meta, ok := u["metadata"].(map[string]any); ok && meta["creationTimestamp"] == nil {
			delete(meta, "creationTimestamp")
		}
		b, err := yaml.Marshal(u)
		if err != nil {
			return nil, fmt.Errorf("when writing ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		write(b)
	}
	return out.Bytes(), nil
}

// kindOf and groupOf read an object's kind and API group.
func kindOf(obj map[string]any) string {
	k, _ := obj["kind"].(string)
	return k
}

func groupOf(obj map[string]any) string {
	v, _ := obj["apiVersion"].(string)
	if g, _, ok := strings.Cut(v, "/"); ok {
		return g
	}
	return ""
}
