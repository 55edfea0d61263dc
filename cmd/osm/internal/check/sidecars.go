package check

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/proxy"
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
	for _, ns := range namespaces {
		pods, err := k.c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			r.Status, r.Message = Fail, fmt.Sprintf("cannot list the pods of namespace %s: %v", ns, err)
			return []Result{r}
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			if !ShouldHaveSidecar(pod) {
				continue
			}
			total++
			if proxy.EnvoyContainer(pod) == nil {
				missing = append(missing, pod.Namespace+"/"+pod.Name)
				restart = append(restart, ownerRef(pod))
			}
		}
	}
	scope := "namespace " + strings.Join(namespaces, ", ")
	if len(namespaces) > 1 {
		scope = "namespaces " + strings.Join(namespaces, ", ")
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
func (k *checker) sidecarNamespaces(ctx context.Context) ([]string, error) {
	if k.o.Namespace == "" {
		return k.meshNamespaces(ctx)
	}
	ns, err := k.c.Kube.CoreV1().Namespaces().Get(ctx, k.o.Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("namespace %s does not exist", k.o.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read namespace %s: %w", k.o.Namespace, err)
	}
	if neverInjected(ns.Name, k.o.ControlPlane) {
		return nil, fmt.Errorf("namespace %s is never injected (Kubernetes' own or the control plane's)", ns.Name)
	}
	if ns.Labels[bootstrap.InjectionLabel] != "enabled" {
		return nil, fmt.Errorf("namespace %s is not in the mesh: it is not labelled %s=enabled", ns.Name, bootstrap.InjectionLabel)
	}
	return []string{ns.Name}, nil
}

// ShouldHaveSidecar reports whether the injector injects pod when it is created in a mesh
// namespace: not hostNetwork, not opted out, and still pending or running.
func ShouldHaveSidecar(pod *corev1.Pod) bool {
	if pod.Spec.HostNetwork || pod.DeletionTimestamp != nil {
		return false
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	switch strings.ToLower(pod.Annotations[bootstrap.InjectionAnnotation]) {
	case "disabled", "false", "no":
		return false
	}
	return true
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
