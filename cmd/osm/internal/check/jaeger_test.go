package check

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

func TestEvaluateJaegerObjects(t *testing.T) {
	one := int32(1)
	svc := corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "jaeger"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 9411}, {Port: 16686}}}}
	dep := func(avail int32) appsv1.Deployment {
		return appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "jaeger"}, Spec: appsv1.DeploymentSpec{Replicas: &one},
			Status: appsv1.DeploymentStatus{AvailableReplicas: avail}}
	}
	tests := map[string]struct {
		svcs   []corev1.Service
		deps   []appsv1.Deployment
		status Status
		msg    string
	}{
		"both ready": {svcs: []corev1.Service{svc}, deps: []appsv1.Deployment{dep(1)}, status: Pass,
			msg: "Service jaeger (ports 9411, 16686), Deployment jaeger (1/1 available)"},
		"the Deployment is not available": {svcs: []corev1.Service{svc}, deps: []appsv1.Deployment{dep(0)}, status: Fail, msg: "0 of 1 replicas available"},
		"no Service":                      {deps: []appsv1.Deployment{dep(1)}, status: Fail, msg: "no Service app=jaeger"},
		"no Deployment":                   {svcs: []corev1.Service{svc}, status: Fail, msg: "no Deployment app=jaeger"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, msg, _ := EvaluateJaegerObjects(tc.svcs, tc.deps, "osm-system")
			if status != tc.status || !strings.Contains(msg, tc.msg) {
				t.Errorf("EvaluateJaegerObjects = %v %q; want %v with %q", status, msg, tc.status, tc.msg)
			}
		})
	}
}

func TestDescribePod(t *testing.T) {
	running := corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{Ready: true, RestartCount: 5}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "jaeger-8ddcc47d9-q7tgg"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "jaeger"}}}, Status: running}
	desc, ready := DescribePod(pod)
	if !ready || desc != "jaeger-8ddcc47d9-q7tgg Running, 1/1 ready, 5 restarts" {
		t.Errorf("DescribePod = %q, %t", desc, ready)
	}
	pod.Status = corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{}}}
	desc, ready = DescribePod(pod)
	if ready || desc != "jaeger-8ddcc47d9-q7tgg Pending, 0/1 ready" {
		t.Errorf("DescribePod of a pending pod = %q, %t", desc, ready)
	}
}

func TestFormatEvents(t *testing.T) {
	at := func(m int) metav1.Time { return metav1.NewTime(time.Unix(0, 0).Add(time.Duration(m) * time.Minute)) }
	events := []corev1.Event{
		{Type: "Warning", Reason: "BackOff", Message: "Back-off pulling image", LastTimestamp: at(3)},
		{Type: "Normal", Reason: "Scheduled", Message: "assigned", LastTimestamp: at(1)},
		{Type: "Warning", Reason: "Failed", Message: "ErrImagePull\n", LastTimestamp: at(2)},
	}
	got := FormatEvents("jaeger-1", events, 2)
	want := []string{"event of jaeger-1: Warning Failed: ErrImagePull", "event of jaeger-1: Warning BackOff: Back-off pulling image"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("FormatEvents = %q, want %q", got, want)
	}
	if got := FormatEvents("p", nil, 5); len(got) != 1 || !strings.Contains(got[0], "none") {
		t.Errorf("FormatEvents without events = %q", got)
	}
}

func TestShouldHaveSidecar(t *testing.T) {
	tests := map[string]struct {
		pod  corev1.Pod
		want bool
	}{
		"a running pod":       {pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, want: true},
		"a pending pod":       {pod: corev1.Pod{}, want: true},
		"a hostNetwork pod":   {pod: corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true}}},
		"a completed job pod": {pod: corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}},
		"an opted-out pod": {pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{"openservicemesh.io/sidecar-injection": "Disabled"}}}},
		"an explicitly enabled pod": {pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{"openservicemesh.io/sidecar-injection": "enabled"}}}, want: true},
		"a job pod with a native envoy sidecar": {pod: corev1.Pod{
			Spec:   corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, InitContainers: []corev1.Container{{Name: "osm-init"}, {Name: "envoy"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}, want: true},
		"a pod with a malformed injection annotation": {pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{"openservicemesh.io/sidecar-injection": "maybe"}}}, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ns := inject.Namespace{Name: "app", Labels: map[string]string{bootstrap.InjectionLabel: inject.InjectionEnabled}}
			if got := ShouldHaveSidecar(&tc.pod, ns, "osm-system"); got != tc.want {
				t.Errorf("ShouldHaveSidecar = %t, want %t", got, tc.want)
			}
		})
	}
}
