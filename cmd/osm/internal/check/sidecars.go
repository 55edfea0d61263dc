package check

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// checkSidecars finds the pods of mesh namespaces that run without the sidecar: created
// before the namespace was labelled, or admitted while no injector answered.
func (k *checker) checkSidecars(ctx context.Context) []Result {
	r := Result{Step: stepSidecars, Title: "sidecars"}
	namespaces, err := k.sidecarNamespaces(ctx)
	if err != nil {
		r.Status, r.Message = Fail, err.Error()
		r.Hint = "add it to the mesh: osm namespace add " + k.o.Namespace
		return []Result{r}
	}
	if len(namespaces) == 0 {
		r.Status, r.Message = Warn, "no namespace is in the mesh: no pod gets the sidecar"
		r.Hint = "osm namespace add NAMESPACE, then restart its workloads"
		return []Result{r}
	}
	var missing, restart []string
	total := 0
	names := make([]string, 0, len(namespaces))
	for _, ns := range namespaces {
		names = append(names, ns.Name)
		pods, err := k.c.Kube.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{})
		if err != nil {
			r.Status, r.Message = Fail, fmt.Sprintf("cannot list the pods of namespace %s: %v", ns.Name, err)
			return []Result{r}
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			if !ShouldHaveSidecar(pod, ns, k.o.ControlPlane) {
				continue
			}
			total++
			if !inject.IsInjected(pod) {
				missing = append(missing, pod.Namespace+"/"+pod.Name)
				restart = append(restart, ownerRef(pod))
			}
		}
	}
	scope := "namespace " + strings.Join(names, ", ")
	if len(names) > 1 {
		scope = "namespaces " + strings.Join(names, ", ")
	}
	if len(missing) > 0 {
		r.Status = Fail
		r.Message = fmt.Sprintf("%d of %s in %s: no envoy sidecar (created before the namespace was labelled, "+
			"or while no injector answered), so no spans", len(missing), count(total, "pod"), scope)
		r.Details = limit(missing, maxDetails)
		r.Hint = "re-create them so the injector adds the sidecar: " + strings.Join(limit(dedupe(restart), 5), "; ")
		return []Result{r}
	}
	r.Status, r.Message = Pass, fmt.Sprintf("%s in %s: every one has the envoy sidecar", count(total, "pod"), scope)
	return []Result{r}
}

// sidecarNamespaces is -n's namespace (which must be in the mesh), or every mesh namespace.
func (k *checker) sidecarNamespaces(ctx context.Context) ([]inject.Namespace, error) {
	if k.o.Namespace == "" {
		return k.meshNamespaceObjects(ctx)
	}
	ns, err := k.c.Kube.CoreV1().Namespaces().Get(ctx, k.o.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("namespace %s does not exist", k.o.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read namespace %s: %w", k.o.Namespace, err)
	}
	if in, reason := inject.NamespaceInMesh(inject.NamespaceOf(ns), k.o.ControlPlane); !in {
		return nil, fmt.Errorf("namespace %s is not in the mesh: %s", ns.Name, reason)
	}
	return []inject.Namespace{inject.NamespaceOf(ns)}, nil
}

// ShouldHaveSidecar reports whether pod, live in namespace ns, is one the injector injects:
// it carries the sidecar, or the injector's own rule (inject.Decide) injects it. Pods that are
// terminating or done are left out: re-creating them is moot. A pod whose annotations the
// injector would refuse counts too: it runs without the sidecar and its owner should know.
func ShouldHaveSidecar(pod *corev1.Pod, ns inject.Namespace, controlPlane string) bool {
	if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if inject.IsInjected(pod) {
		return true
	}
	ok, _, err := inject.Decide(pod, ns, controlPlane)
	return ok || err != nil
}

// dedupe drops repeated strings, keeping the first of each in order.
func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
