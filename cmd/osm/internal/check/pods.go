package check

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/proxy"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// maxDetails bounds the pods listed under one result.
const maxDetails = 20

// checkPodBootstraps is the guide's step 3: the pods' bootstraps carry the tracing settings,
// and are the ones the MeshConfig gives now (not stale).
func (k *checker) checkPodBootstraps(ctx context.Context) []Result {
	r := Result{Step: stepPods, Title: "pod bootstrap"}
	if k.mc == nil || !k.tracingOK {
		return []Result{skipped(r, "needs a valid MeshConfig (steps 1 and 2)")}
	}
	pods, scope, err := k.scopePods(ctx)
	if err != nil {
		r.Status, r.Message = Fail, err.Error()
		return []Result{r}
	}
	if k.o.Pod != "" && !inject.IsInjected(&pods[0]) {
		r.Status = Fail
		r.Message = fmt.Sprintf("pod %s/%s is not injected: it has no envoy container", pods[0].Namespace, pods[0].Name)
		r.Hint = fmt.Sprintf("label its namespace with 'osm namespace add %s' and re-create the pod", pods[0].Namespace)
		return []Result{r}
	}
	nsAnn := map[string]map[string]string{}
	var bad, stale, outdated []string
	var checked int
	var failed bool
	var last PodVerdict
	var lastPod string
	for i := range pods {
		pod := &pods[i]
		if !inject.IsInjected(pod) || pod.DeletionTimestamp != nil {
			continue
		}
		ann, err := k.namespaceAnnotations(ctx, pod.Namespace, nsAnn)
		if err != nil {
			r.Status, r.Message = Fail, err.Error()
			return []Result{r}
		}
		in := PodInput{Pod: pod, NamespaceAnnotations: ann, ControlPlane: k.o.ControlPlane, Mesh: &k.mc.Spec.Observability}
		if pb, err := proxy.ReadPodBootstrap(ctx, k.c.Kube, pod); err != nil {
			in.BootstrapErr = err
		} else {
			in.BootstrapYAML = pb.YAML
		}
		v := EvaluatePod(in)
		checked++
		last, lastPod = v, pod.Namespace+"/"+pod.Name
		if v.Status == Fail || v.Status == Warn {
			bad = append(bad, fmt.Sprintf("%s/%s: %s", pod.Namespace, pod.Name, v.Message))
		}
		failed = failed || v.Status == Fail
		switch {
		case v.Outdated:
			outdated = append(outdated, ownerRef(pod))
		case v.Stale:
			stale = append(stale, ownerRef(pod))
		}
	}
	switch {
	case checked == 0:
		return []Result{skipped(r, "no injected pod in "+scope)}
	case k.o.Pod != "":
		r.Status, r.Message = last.Status, "pod "+lastPod+": "+last.Message
	case len(bad) == 0:
		r.Status = Pass
		speaks := "endpoint " + k.tracing.Endpoint
		if k.tracing.Protocol == bootstrap.ProtocolOpenTelemetry {
			speaks = "OTLP/gRPC"
		}
		r.Message = fmt.Sprintf("%s in %s: current bootstrap with %s -> %s:%d, %s",
			count(checked, "injected pod"), scope, bootstrap.TracingClusterName, k.tracing.Address, k.tracing.Port, speaks)
		if !k.tracing.Enable {
			r.Message = fmt.Sprintf("%s in %s: current bootstrap (tracing disabled)", count(checked, "injected pod"), scope)
		}
	default:
		r.Status = Warn
		if failed {
			r.Status = Fail
		}
		r.Message = fmt.Sprintf("%d of %s in %s: not the expected bootstrap", len(bad), count(checked, "injected pod"), scope)
		r.Details = limit(bad, maxDetails)
	}
	if r.Status != Pass {
		r.Hint = podHint(stale, outdated, r.Status)
	}
	return []Result{r}
}

func podHint(stale, outdated []string, status Status) string {
	if len(stale) == 0 && len(outdated) > 0 {
		return "an outdated bootstrap runs the current tracing settings as another osm-injector version rendered them " +
			"(after an upgrade); the re-bootstrap controller rolls such workloads only when the MeshConfig sets " +
			"spec.rebootstrap.onUpgrade: true; roll them now with 'osm proxy rollout --outdated': " +
			strings.Join(limit(dedupe(outdated), 5), "; ")
	}
	if len(stale) > 0 {
		return "a stale bootstrap is replaced when the pod is re-created: the injector's re-bootstrap controller rolls " +
			"workloads after a MeshConfig change (see the MeshConfig's status); if it did not, restart them: " +
			strings.Join(limit(dedupe(stale), 5), "; ")
	}
	if status == Warn {
		return "remove the tracing.openservicemesh.io/enable annotation (or set it to true) to trace this pod"
	}
	return "re-create the pod so the injector writes its bootstrap again (kubectl rollout restart on its workload, " +
		"or delete the pod); compare with 'osm proxy bootstrap POD -n NAMESPACE'"
}

// ownerRef is the command that restarts a pod's workload.
func ownerRef(pod *corev1.Pod) string {
	w := bootstrap.OwnerOf(pod)
	switch w.Kind {
	case bootstrap.KindDeployment, bootstrap.KindStatefulSet, bootstrap.KindDaemonSet:
		return fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(w.Kind), w.Name, pod.Namespace)
	}
	return fmt.Sprintf("kubectl delete pod %s -n %s (then re-create it)", pod.Name, pod.Namespace)
}

// scopePods returns the pods the pod checks look at: the named pod, the pods of -n, or the
// pods of every namespace in the mesh; scope describes them.
func (k *checker) scopePods(ctx context.Context) (pods []corev1.Pod, scope string, err error) {
	if k.o.Pod != "" {
		pod, err := k.c.Kube.CoreV1().Pods(k.o.Namespace).Get(ctx, k.o.Pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, "", fmt.Errorf("pod %s not found in namespace %s", k.o.Pod, k.o.Namespace)
		}
		if err != nil {
			return nil, "", fmt.Errorf("cannot read pod %s/%s: %w", k.o.Namespace, k.o.Pod, err)
		}
		return []corev1.Pod{*pod}, "pod " + k.o.Namespace + "/" + k.o.Pod, nil
	}
	namespaces := []string{k.o.Namespace}
	scope = "namespace " + k.o.Namespace
	if k.o.Namespace == "" {
		namespaces, err = k.meshNamespaces(ctx)
		if err != nil {
			return nil, "", err
		}
		scope = "the mesh's namespaces (" + strings.Join(namespaces, ", ") + ")"
		if len(namespaces) == 0 {
			scope = "the mesh (no namespace is labelled " + inject.MeshNamespaceSelector() + ")"
		}
	}
	for _, ns := range namespaces {
		list, err := k.c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, "", fmt.Errorf("cannot list the pods of namespace %s: %w", ns, err)
		}
		pods = append(pods, list.Items...)
	}
	return pods, scope, nil
}

// meshNamespaces lists the namespaces labelled for injection, sorted.
func (k *checker) meshNamespaces(ctx context.Context) ([]string, error) {
	nss, err := k.meshNamespaceObjects(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(nss))
	for _, ns := range nss {
		out = append(out, ns.Name)
	}
	return out, nil
}

// meshNamespaceObjects lists the namespaces in the mesh (inject.NamespaceInMesh), sorted by
// name, as the core's inject.Namespace.
func (k *checker) meshNamespaceObjects(ctx context.Context) ([]inject.Namespace, error) {
	list, err := k.c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: inject.MeshNamespaceSelector()})
	if err != nil {
		return nil, fmt.Errorf("cannot list the namespaces in the mesh: %w", err)
	}
	var out []inject.Namespace
	for i := range list.Items {
		ns := inject.NamespaceOf(&list.Items[i])
		if in, _ := inject.NamespaceInMesh(ns, k.o.ControlPlane); in {
			out = append(out, ns)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (k *checker) namespaceAnnotations(ctx context.Context, ns string, cache map[string]map[string]string) (map[string]string, error) {
	if ann, ok := cache[ns]; ok {
		return ann, nil
	}
	got, err := k.c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot read namespace %s: %w", ns, err)
	}
	cache[ns] = got.Annotations
	return got.Annotations, nil
}
