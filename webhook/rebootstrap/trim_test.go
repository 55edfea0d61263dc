package rebootstrap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// whole fills what a real API server returns and the planner does not read.
func whole(m *metav1.ObjectMeta, tpl *corev1.PodTemplateSpec) {
	m.Labels = map[string]string{"team": "payments"}
	m.Annotations = map[string]string{lastApplied: `{"big":"copy"}`, "keep": "me"}
	m.Finalizers = []string{"example.com/hold"}
	m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	m.OwnerReferences = []metav1.OwnerReference{*ownerRef("example.com/v1", "App", "owner")}
	tpl.Spec.Containers = []corev1.Container{{Name: "app", Image: "busybox", Env: []corev1.EnvVar{{Name: "A", Value: "1"}}}}
	tpl.Spec.Volumes = []corev1.Volume{{Name: "data"}}
}

// trimmed runs the cache's transform on obj, in place as the cache does.
func trimmed(t *testing.T, obj any) {
	t.Helper()
	out, err := trim(obj)
	if err != nil || out != obj {
		t.Fatalf("trim = %p, %v; want the object itself", out, err)
	}
}

// TestTrim: the cache keeps only what the planner reads, so Collect and the rollout readers
// decide the same on trimmed objects as on whole ones, and the bulk is gone.
func TestTrim(t *testing.T) {
	failed := dep("app", "failed", nil, func(d *appsv1.Deployment) {
		d.Generation, d.Status.ObservedGeneration = 2, 2
		d.Status.UpdatedReplicas = 0
		d.Status.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Message: "minimum replicas available"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: reasonProgressDeadlineExceeded, Message: "too slow"},
		}
	})
	deps := []appsv1.Deployment{
		dep("app", "web", map[string]string{bootstrap.AnnotationAddress: "pod-collector"}),
		dep("app", "paused", nil, func(d *appsv1.Deployment) { d.Spec.Paused = true }),
		dep("app", "opted", nil),
		dep("app", "host", nil, func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }),
		failed,
	}
	for i := range deps {
		d := &deps[i]
		whole(&d.ObjectMeta, &d.Spec.Template)
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": d.Name}}
		d.Spec.Strategy = appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(1))}}
	}
	deps[2].Annotations[bootstrap.AnnotationAutoRebootstrap] = "false"
	sts := appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "db", Generation: 3},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](3), Template: template(nil), ServiceName: "db",
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](1)},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
		},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: 1},
	}
	whole(&sts.ObjectMeta, &sts.Spec.Template)
	ds := appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "agent", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Template: template(nil), UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 1, NumberAvailable: 2},
	}
	whole(&ds.ObjectMeta, &ds.Spec.Template)

	full := &Snapshot{
		ControlPlaneNamespace: "osm-system",
		Namespaces:            []corev1.Namespace{namespace("app", true, nil)},
		Deployments:           ptrs(deps),
		StatefulSets:          ptrs([]appsv1.StatefulSet{sts}),
		DaemonSets:            ptrs([]appsv1.DaemonSet{ds}),
	}
	cut := deepCopySnapshot(full)
	for _, d := range cut.Deployments {
		trimmed(t, d)
	}
	trimmed(t, cut.StatefulSets[0])
	trimmed(t, cut.DaemonSets[0])

	want, _ := Collect(full, fakeHash)
	got, _ := Collect(cut, fakeHash)
	if len(want) != 6 { // seven, less the one on the host network
		t.Fatalf("the whole snapshot gives %d workloads, want 6", len(want))
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("Collect differs on trimmed objects (-whole +trimmed):\n%s", diff)
	}

	d := cut.Deployments[0]
	if d.Labels != nil || d.OwnerReferences != nil || d.Finalizers != nil || d.ManagedFields != nil ||
		d.Annotations[lastApplied] != "" || d.Spec.Selector != nil || d.Spec.Strategy.RollingUpdate != nil ||
		d.Spec.Template.Spec.Containers != nil || d.Spec.Template.Spec.Volumes != nil {
		t.Errorf("a trimmed Deployment keeps what the planner never reads: %+v", d)
	}
	if d.Annotations["keep"] != "me" || d.Spec.Template.Labels["app"] != "x" {
		t.Errorf("a trimmed Deployment lost its annotations or its template's labels: %+v", d)
	}
	if c := cut.Deployments[4].Status.Conditions; len(c) != 1 || c[0].Type != appsv1.DeploymentProgressing {
		t.Errorf("a trimmed Deployment keeps conditions %+v, want only Progressing", c)
	}
	if s := cut.StatefulSets[0]; s.Spec.VolumeClaimTemplates != nil || s.Spec.ServiceName != "" || s.Labels != nil {
		t.Errorf("a trimmed StatefulSet keeps what the planner never reads: %+v", s)
	}
}
