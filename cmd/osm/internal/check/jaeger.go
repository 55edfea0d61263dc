package check

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// JaegerSelector selects the Jaeger objects, as the guide's kubectl commands do.
const JaegerSelector = "app=jaeger"

// maxEvents bounds the events shown for a pod that is not ready.
const maxEvents = 5

// jaegerExpected reports whether the MeshConfig sends spans to a Jaeger of the control-plane
// namespace (the chart's jaeger, or the guide's).
func (k *checker) jaegerExpected() bool {
	if !k.tracingOK {
		return false
	}
	name, ns, ok := ServiceOf(k.tracing.Address)
	return ok && ns == k.o.ControlPlane && (name == "jaeger" || k.collector != nil && k.collector.Labels["app"] == "jaeger")
}

// checkJaegerObjects is the guide's step 4: Service and Deployment app=jaeger exist and are
// ready, when a Jaeger is deployed in the control-plane namespace.
func (k *checker) checkJaegerObjects(ctx context.Context) []Result {
	r := Result{Step: stepJaegerObjects, Title: "Jaeger objects"}
	opts := metav1.ListOptions{LabelSelector: JaegerSelector}
	svcs, err := k.c.Kube.CoreV1().Services(k.o.ControlPlane).List(ctx, opts)
	if err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("cannot list the Services of namespace %s: %v", k.o.ControlPlane, err)
		return []Result{r}
	}
	deps, err := k.c.Kube.AppsV1().Deployments(k.o.ControlPlane).List(ctx, opts)
	if err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("cannot list the Deployments of namespace %s: %v", k.o.ControlPlane, err)
		return []Result{r}
	}
	k.jaegerSeen = len(svcs.Items)+len(deps.Items) > 0
	if !k.jaegerSeen {
		if k.jaegerExpected() {
			r.Status = Fail
			r.Message = fmt.Sprintf("no Service or Deployment %s in namespace %s, but the MeshConfig sends spans to %s",
				JaegerSelector, k.o.ControlPlane, k.tracing.Address)
			r.Hint = "deploy Jaeger: 'osm install --set=osm.deployJaeger=true,osm.tracing.enable=true' on a new install, " +
				"or the guide's Jaeger Service and Deployment; or point the MeshConfig at your own collector"
			return []Result{r}
		}
		return []Result{skipped(r, fmt.Sprintf("no Jaeger (%s) in namespace %s: the collector is not the in-cluster Jaeger", JaegerSelector, k.o.ControlPlane))}
	}
	status, msg, hint := EvaluateJaegerObjects(svcs.Items, deps.Items, k.o.ControlPlane)
	r.Status, r.Message, r.Hint = status, msg, hint
	return []Result{r}
}

// EvaluateJaegerObjects judges the Jaeger Services and Deployments of a namespace: at least
// one of each, every Deployment with all its replicas available.
func EvaluateJaegerObjects(svcs []corev1.Service, deps []appsv1.Deployment, ns string) (Status, string, string) {
	var parts, problems []string
	for _, s := range svcs {
		parts = append(parts, fmt.Sprintf("Service %s (ports %s)", s.Name, servicePorts(&s)))
	}
	for _, d := range deps {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		parts = append(parts, fmt.Sprintf("Deployment %s (%d/%d available)", d.Name, d.Status.AvailableReplicas, want))
		if want == 0 {
			problems = append(problems, fmt.Sprintf("Deployment %s is scaled to 0", d.Name))
		} else if d.Status.AvailableReplicas < want {
			problems = append(problems, fmt.Sprintf("Deployment %s has %d of %d replicas available", d.Name, d.Status.AvailableReplicas, want))
		}
	}
	if len(svcs) == 0 {
		problems = append(problems, "no Service "+JaegerSelector)
	}
	if len(deps) == 0 {
		problems = append(problems, "no Deployment "+JaegerSelector)
	}
	msg := "in namespace " + ns + ": " + strings.Join(parts, ", ")
	if len(problems) > 0 {
		return Fail, msg + "; " + strings.Join(problems, "; "),
			fmt.Sprintf("kubectl get services,deployments -n %s -l %s; kubectl describe deployment -n %s -l %s", ns, JaegerSelector, ns, JaegerSelector)
	}
	return Pass, msg, ""
}

// checkJaegerPods is the guide's step 5: the Jaeger pod is Running and Ready; when it is not,
// its recent events say why.
func (k *checker) checkJaegerPods(ctx context.Context) []Result {
	r := Result{Step: stepJaegerPods, Title: "Jaeger pod"}
	pods, err := k.c.Kube.CoreV1().Pods(k.o.ControlPlane).List(ctx, metav1.ListOptions{LabelSelector: JaegerSelector})
	if err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("cannot list the pods of namespace %s: %v", k.o.ControlPlane, err)
		return []Result{r}
	}
	if len(pods.Items) == 0 {
		if k.jaegerSeen || k.jaegerExpected() {
			r.Status, r.Message = Fail, fmt.Sprintf("no pod %s in namespace %s", JaegerSelector, k.o.ControlPlane)
			r.Hint = fmt.Sprintf("kubectl describe deployment -n %s -l %s (its events say why no pod was created)", k.o.ControlPlane, JaegerSelector)
			if !k.jaegerSeen {
				r.Hint = "deploy Jaeger first (step 4)"
			}
			return []Result{r}
		}
		return []Result{skipped(r, "no in-cluster Jaeger")}
	}
	var ok, bad []string
	var details []string
	for i := range pods.Items {
		pod := &pods.Items[i]
		desc, ready := DescribePod(pod)
		if ready {
			ok = append(ok, desc)
			if k.jaeger == nil {
				k.jaeger = pod
			}
			continue
		}
		bad = append(bad, desc)
		details = append(details, k.podEvents(ctx, pod)...)
	}
	if len(bad) > 0 {
		r.Status = Fail
		r.Message = "not ready: " + strings.Join(bad, ", ")
		if len(ok) > 0 {
			r.Message += "; ready: " + strings.Join(ok, ", ")
		}
		r.Details = details
		r.Hint = fmt.Sprintf("kubectl describe pod -n %s -l %s", k.o.ControlPlane, JaegerSelector)
		return []Result{r}
	}
	r.Status, r.Message = Pass, strings.Join(ok, ", ")
	return []Result{r}
}

// DescribePod says how a pod stands, e.g. "jaeger-abc Running, 1/1 ready, 5 restarts", and
// whether it is Running and Ready.
func DescribePod(pod *corev1.Pod) (string, bool) {
	total, readyN, restarts := len(pod.Spec.Containers), 0, int32(0)
	for _, s := range pod.Status.ContainerStatuses {
		if s.Ready {
			readyN++
		}
		restarts += s.RestartCount
	}
	phase := string(pod.Status.Phase)
	if phase == "" {
		phase = "Pending"
	}
	if pod.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	podReady := false
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			podReady = true
		}
	}
	desc := fmt.Sprintf("%s %s, %d/%d ready", pod.Name, phase, readyN, total)
	if restarts > 0 {
		desc += fmt.Sprintf(", %d restarts", restarts)
	}
	return desc, phase == string(corev1.PodRunning) && podReady
}

// podEvents returns the pod's most recent events, as kubectl describe shows them.
func (k *checker) podEvents(ctx context.Context, pod *corev1.Pod) []string {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.kind", bootstrap.KindPod),
		fields.OneTermEqualSelector("involvedObject.name", pod.Name),
	).String()
	list, err := k.c.Kube.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return []string{fmt.Sprintf("events of %s: cannot list them: %v", pod.Name, err)}
	}
	return FormatEvents(pod.Name, list.Items, maxEvents)
}

// FormatEvents renders the last n events, oldest first.
func FormatEvents(pod string, events []corev1.Event, n int) []string {
	if len(events) == 0 {
		return []string{"events of " + pod + ": none"}
	}
	sort.SliceStable(events, func(i, j int) bool { return eventTime(events[i]).Before(eventTime(events[j])) })
	if len(events) > n {
		events = events[len(events)-n:]
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, fmt.Sprintf("event of %s: %s %s: %s", pod, e.Type, e.Reason, strings.TrimSpace(e.Message)))
	}
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
