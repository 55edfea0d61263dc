package namespaces

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// EnabledValue is the value of the injection label that opts a namespace in.
const EnabledValue = inject.InjectionEnabled

// FieldManager names the CLI in the namespaces' managed fields.
const FieldManager = "osm-cli"

// CheckInjectable refuses the namespaces the injector never injects: kube-system,
// kube-public and the control plane's own.
func CheckInjectable(ns, controlPlane string) error {
	never, reason := inject.NeverInjectedNamespace(ns, controlPlane)
	switch {
	case !never:
		return nil
	case ns == controlPlane:
		return fmt.Errorf("namespace %s is the control plane's namespace (--osm-namespace) and is never injected; "+
			"deploy the application to another namespace", ns)
	}
	return fmt.Errorf("%s: the injector leaves Kubernetes' own namespaces alone", reason)
}

// Add labels each namespace for injection. Pods created afterwards get the sidecar; running
// pods do not until they are re-created.
func Add(ctx context.Context, cs kubernetes.Interface, controlPlane string, names []string, out io.Writer) error {
	for _, ns := range names {
		if err := CheckInjectable(ns, controlPlane); err != nil {
			return err
		}
	}
	for _, ns := range names {
		if err := setLabel(ctx, cs, ns, EnabledValue); err != nil {
			return err
		}
		fmt.Fprintf(out, "Namespace [%s] successfully added to the mesh: new pods get the Envoy sidecar "+
			"(restart running workloads to inject them: kubectl rollout restart deployment -n %s)\n", ns, ns)
	}
	return nil
}

// Remove drops the injection label of each namespace, whatever its value. Injected pods keep
// their sidecar until they are re-created. Whether a namespace was in the mesh is the core's
// inject.NamespaceInMesh; a namespace without the label has nothing to remove.
func Remove(ctx context.Context, cs kubernetes.Interface, controlPlane string, names []string, out io.Writer) error {
	for _, ns := range names {
		got, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return namespaceError(ns, err)
		}
		in, reason := inject.NamespaceInMesh(inject.NamespaceOf(got), controlPlane)
		if _, labelled := got.Labels[bootstrap.InjectionLabel]; !labelled {
			fmt.Fprintf(out, "Namespace [%s] is not in the mesh (%s); nothing to do\n", ns, reason)
			continue
		}
		if err := setLabel(ctx, cs, ns, ""); err != nil {
			return err
		}
		if !in {
			fmt.Fprintf(out, "Namespace [%s]: removed its %s label; it was not in the mesh (%s)\n", ns, bootstrap.InjectionLabel, reason)
			continue
		}
		fmt.Fprintf(out, "Namespace [%s] successfully removed from the mesh: new pods are not injected "+
			"(running pods keep their sidecar until re-created)\n", ns)
	}
	return nil
}

// setLabel sets the injection label to value, or removes it when value is "".
func setLabel(ctx context.Context, cs kubernetes.Interface, ns, value string) error {
	var v any
	if value != "" {
		v = value
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"labels": map[string]any{bootstrap.InjectionLabel: v}},
	})
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return namespaceError(ns, err)
	}
	return nil
}

func namespaceError(ns string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %s does not exist (create it with kubectl create namespace %s)", ns, ns)
	}
	return fmt.Errorf("when updating namespace %s: %w", ns, err)
}

// Entry is one namespace that carries the injection label.
type Entry struct {
	Name string
	// Value is the injection label's value (enabled, or another value the webhook ignores).
	Value string
	// InMesh is the core's answer (inject.NamespaceInMesh); NotInMesh says why not.
	InMesh    bool
	NotInMesh string
	// Overrides are the namespace's tracing annotations.
	Overrides map[string]string
}

// List returns the namespaces that carry the injection label, whatever its value, sorted by
// name: those with another value are listed too, as not in the mesh, since a typo there is
// what a user looks for.
func List(ctx context.Context, cs kubernetes.Interface, controlPlane string) ([]Entry, error) {
	list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: bootstrap.InjectionLabel})
	if err != nil {
		return nil, fmt.Errorf("when listing namespaces: %w", err)
	}
	return Entries(list.Items, controlPlane), nil
}

// Entries turns labelled namespaces into list entries, each with the core's answer on
// whether it is in the mesh.
func Entries(items []corev1.Namespace, controlPlane string) []Entry {
	var out []Entry
	for i := range items {
		ns := &items[i]
		v, ok := ns.Labels[bootstrap.InjectionLabel]
		if !ok {
			continue
		}
		e := Entry{Name: ns.Name, Value: v}
		e.InMesh, e.NotInMesh = inject.NamespaceInMesh(inject.NamespaceOf(ns), controlPlane)
		for k, val := range ns.Annotations {
			if strings.HasPrefix(k, bootstrap.AnnotationPrefix) {
				if e.Overrides == nil {
					e.Overrides = map[string]string{}
				}
				e.Overrides[k] = val
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Print writes entries as a table: NAMESPACE, SIDECAR-INJECTION, TRACING-OVERRIDES.
func Print(out io.Writer, entries []Entry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(out, "No namespace is in the mesh; add one with 'osm namespace add NAMESPACE'.")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tSIDECAR-INJECTION\tTRACING-OVERRIDES")
	for _, e := range entries {
		value := e.Value
		if !e.InMesh {
			value += " (not injected: " + e.NotInMesh + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, value, overrides(e.Overrides))
	}
	return tw.Flush()
}

func overrides(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, strings.TrimPrefix(k, bootstrap.AnnotationPrefix)+"="+m[k])
	}
	return strings.Join(parts, ",")
}
