package inject

import (
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Reasons Decide gives for not injecting a pod (some carry a name after them).
const (
	ReasonAlreadyInjected = "already injected"
	ReasonHostNetwork     = "the pod uses the host's network"
)

// acceptedInjection is the accepted form of the injection annotation.
const acceptedInjection = "must be one of enabled, true, yes (inject) or disabled, false, no (do not inject)"

// Decide says whether pod, in namespace ns, is injected; when not, reason says why. It is
// injected only when the namespace is labelled openservicemesh.io/sidecar-injection=enabled
// and the pod does not opt out with the annotation openservicemesh.io/sidecar-injection
// (disabled, false or no; enabled, true and yes are accepted too, in any case). Never
// injected: pods that already carry the sidecar (reason "already injected"), pods in
// kube-system, kube-public or the control-plane namespace, and hostNetwork pods. Any other
// value of the annotation is an error naming the annotation, the value and the accepted ones
// (a *bootstrap.FieldError). The namespace is ns.Name, or the pod's when ns.Name is empty;
// whether it is in the mesh is NamespaceInMesh's to say.
func Decide(pod *corev1.Pod, ns Namespace, controlPlaneNS string) (inject bool, reason string, err error) {
	if pod == nil {
		return false, "", errors.New("no pod to decide on")
	}
	if IsInjected(pod) {
		return false, ReasonAlreadyInjected, nil
	}
	ns.Name = namespaceOf(pod, ns)
	if never, reason := NeverInjectedNamespace(ns.Name, controlPlaneNS); never {
		return false, reason, nil
	}
	if pod.Spec.HostNetwork {
		return false, ReasonHostNetwork, nil
	}
	if in, reason := NamespaceInMesh(ns, controlPlaneNS); !in {
		return false, reason, nil
	}
	if v, ok := pod.Annotations[bootstrap.InjectionAnnotation]; ok {
		switch strings.ToLower(v) {
		case "enabled", "true", "yes":
		case "disabled", "false", "no":
			return false, "the pod opts out with the annotation " + bootstrap.InjectionAnnotation + "=" + v, nil
		default:
			return false, "", &bootstrap.FieldError{
				Source:   bootstrap.SourcePod,
				Field:    bootstrap.InjectionAnnotation,
				Value:    v,
				Accepted: acceptedInjection,
			}
		}
	}
	return true, "", nil
}

// IsInjected reports a pod the injector injected: it carries the injector's own marker, the
// label bootstrap.BootstrapHashKey that injection sets (and nothing else does: workloads are
// stamped with an annotation of that name, not a label), and the sidecar. A container's name
// alone proves nothing: a user's container named envoy is the user's, and injection refuses
// it by name (see Conflicts) rather than mistaking the pod for injected.
func IsInjected(pod *corev1.Pod) bool {
	if pod == nil {
		return false
	}
	if _, marked := pod.Labels[bootstrap.BootstrapHashKey]; !marked {
		return false
	}
	return Sidecar(&pod.Spec) != nil
}

// namespaceOf is ns.Name, or the pod's namespace when ns has no name.
func namespaceOf(pod *corev1.Pod, ns Namespace) string {
	if ns.Name != "" {
		return ns.Name
	}
	return pod.Namespace
}
