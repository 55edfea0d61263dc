package inject

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// This file is the one home of the namespace rules: which namespaces are never injected and
// whether a namespace is in the mesh. The admission handler, the re-bootstrap controller (via
// Decide), the webhook configuration's namespaceSelector and the CLI's namespace and check
// commands all call these; none compares the label itself.

// InjectionEnabled is the value of the namespace label that turns injection on.
const InjectionEnabled = "enabled"

// MeshNamespaceLabels are the labels a namespace carries to be in the mesh: what osm
// namespace add writes and what the webhook's namespaceSelector matches.
func MeshNamespaceLabels() map[string]string {
	return map[string]string{bootstrap.InjectionLabel: InjectionEnabled}
}

// MeshNamespaceSelector is MeshNamespaceLabels as a label selector string, for List calls
// that narrow the namespaces on the server side. It is only a pre-filter: callers still ask
// NamespaceInMesh of each namespace listed, which also leaves out the never-injected ones.
func MeshNamespaceSelector() string {
	return bootstrap.InjectionLabel + "=" + InjectionEnabled
}

// NeverInjectedNamespaces are the namespaces whose pods are never injected, whatever their
// labels: kube-system, kube-public and the control plane's (controlPlane, or
// bootstrap.DefaultNamespace when empty), each once. The webhook configuration's
// namespaceSelector excludes exactly these.
func NeverInjectedNamespaces(controlPlane string) []string {
	if controlPlane == "" {
		controlPlane = bootstrap.DefaultNamespace
	}
	out := []string{metav1.NamespaceSystem, metav1.NamespacePublic}
	if controlPlane != metav1.NamespaceSystem && controlPlane != metav1.NamespacePublic {
		out = append(out, controlPlane)
	}
	return out
}

// NeverInjectedNamespace says whether pods of namespace ns are never injected, whatever its
// labels (one of NeverInjectedNamespaces). The reason says why.
func NeverInjectedNamespace(ns, controlPlane string) (never bool, reason string) {
	if controlPlane == "" {
		controlPlane = bootstrap.DefaultNamespace
	}
	for _, never := range NeverInjectedNamespaces(controlPlane) {
		switch {
		case ns != never:
		case ns == controlPlane:
			return true, "namespace " + ns + " is the control plane's"
		default:
			return true, "pods in namespace " + ns + " are never injected"
		}
	}
	return false, ""
}

// NamespaceInMesh says whether ns is in the mesh: it carries the label
// openservicemesh.io/sidecar-injection=enabled (exactly that value; the label with any other
// value, or no label, is not) and is not one of NeverInjectedNamespaces. When it is not, the
// reason says why. A pod of a namespace in the mesh may still be left alone by Decide (its
// opt-out annotation, hostNetwork, already injected).
func NamespaceInMesh(ns Namespace, controlPlane string) (in bool, reason string) {
	if never, reason := NeverInjectedNamespace(ns.Name, controlPlane); never {
		return false, reason
	}
	v, ok := ns.Labels[bootstrap.InjectionLabel]
	if ok && v == InjectionEnabled {
		return true, ""
	}
	reason = "namespace " + strconv.Quote(ns.Name) + " is not labelled " + MeshNamespaceSelector()
	if ok {
		reason += " (its value is " + strconv.Quote(v) + ")"
	}
	return false, reason
}

// NamespaceOf is the core's view of a namespace object: its name, labels and annotations
// (shared, not copied).
func NamespaceOf(ns *corev1.Namespace) Namespace {
	if ns == nil {
		return Namespace{}
	}
	return Namespace{Name: ns.Name, Labels: ns.Labels, Annotations: ns.Annotations}
}
