package rebootstrap

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func deployment(edit func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: 3},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
			}},
		},
	}
	if edit != nil {
		edit(d)
	}
	return d
}

func TestDeploymentRollout(t *testing.T) {
	tests := map[string]struct {
		edit    func(*appsv1.Deployment)
		phase   Phase
		message string
	}{
		"every replica updated, ready and available is complete": {phase: PhaseComplete},
		"a generation the controller has not observed is progressing": {
			edit: func(d *appsv1.Deployment) { d.Generation = 4 }, phase: PhaseProgressing, message: "observe generation 4",
		},
		"fewer updated replicas than wanted is progressing": {
			edit: func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }, phase: PhaseProgressing, message: "1 of 2 replicas updated",
		},
		"old replicas still running is progressing": {
			edit: func(d *appsv1.Deployment) { d.Status.Replicas = 3 }, phase: PhaseProgressing, message: "1 old replicas",
		},
		"updated replicas not ready is progressing": {
			edit: func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 1 }, phase: PhaseProgressing, message: "ready",
		},
		"updated replicas not available is progressing": {
			edit: func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 0 }, phase: PhaseProgressing, message: "available",
		},
		"a progress deadline exceeded is failed": {
			edit: func(d *appsv1.Deployment) {
				d.Status.UpdatedReplicas = 1
				d.Status.Conditions[0] = appsv1.DeploymentCondition{
					Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
					Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "x" has timed out progressing.`,
				}
			},
			phase: PhaseFailed, message: "timed out",
		},
		"a progress deadline of an older generation is not a failure yet": {
			edit: func(d *appsv1.Deployment) {
				d.Generation = 4
				d.Status.Conditions[0].Status, d.Status.Conditions[0].Reason = corev1.ConditionFalse, "ProgressDeadlineExceeded"
			},
			phase: PhaseProgressing,
		},
		"replicas unset means one": {
			edit: func(d *appsv1.Deployment) {
				d.Spec.Replicas = nil
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
			},
			phase: PhaseComplete,
		},
		"scaled to zero is complete": {
			edit: func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](0)
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3}
			},
			phase: PhaseComplete,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := DeploymentRollout(deployment(tt.edit))
			if got.Phase != tt.phase || !strings.Contains(got.Message, tt.message) {
				t.Errorf("got %s %q, want %s containing %q", got.Phase, got.Message, tt.phase, tt.message)
			}
		})
	}
}

func TestDeploymentBlocked(t *testing.T) {
	if got := DeploymentBlocked(deployment(nil)); got != "" {
		t.Errorf("a running Deployment is blocked: %q", got)
	}
	if got := DeploymentBlocked(deployment(func(d *appsv1.Deployment) { d.Spec.Paused = true })); !strings.Contains(got, "paused") {
		t.Errorf("a paused Deployment: %q", got)
	}
}

func statefulSet(edit func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec: appsv1.StatefulSetSpec{
			Replicas:       ptr.To[int32](3),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: 2, Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: 3,
			CurrentRevision: "r2", UpdateRevision: "r2",
		},
	}
	if edit != nil {
		edit(s)
	}
	return s
}

func TestStatefulSetRollout(t *testing.T) {
	tests := map[string]struct {
		edit  func(*appsv1.StatefulSet)
		phase Phase
	}{
		"every replica ready at the update revision is complete": {phase: PhaseComplete},
		"an unobserved generation is progressing": {
			edit: func(s *appsv1.StatefulSet) { s.Generation = 3 }, phase: PhaseProgressing,
		},
		"a revision not yet current is progressing": {
			edit: func(s *appsv1.StatefulSet) { s.Status.CurrentRevision = "r1"; s.Status.UpdatedReplicas = 1 }, phase: PhaseProgressing,
		},
		"a replica not ready is progressing": {
			edit: func(s *appsv1.StatefulSet) { s.Status.ReadyReplicas = 2 }, phase: PhaseProgressing,
		},
		"a replica not available is progressing": {
			edit: func(s *appsv1.StatefulSet) { s.Status.AvailableReplicas = 2 }, phase: PhaseProgressing,
		},
		"a partitioned update is complete once the replicas above the partition are updated": {
			edit: func(s *appsv1.StatefulSet) {
				s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2)}
				s.Status.CurrentRevision, s.Status.UpdatedReplicas = "r1", 1
			},
			phase: PhaseComplete,
		},
		"a partitioned update is progressing until then": {
			edit: func(s *appsv1.StatefulSet) {
				s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](1)}
				s.Status.CurrentRevision, s.Status.UpdatedReplicas = "r1", 1
			},
			phase: PhaseProgressing,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := StatefulSetRollout(statefulSet(tt.edit)); got.Phase != tt.phase {
				t.Errorf("got %s (%s), want %s", got.Phase, got.Message, tt.phase)
			}
		})
	}
	onDelete := statefulSet(func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType })
	if got := StatefulSetBlocked(onDelete); !strings.Contains(got, "OnDelete") {
		t.Errorf("an OnDelete StatefulSet: %q", got)
	}
	if got := StatefulSetBlocked(statefulSet(nil)); got != "" {
		t.Errorf("a rolling StatefulSet is blocked: %q", got)
	}
}

func daemonSet(edit func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Generation: 5},
		Spec:       appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
		Status: appsv1.DaemonSetStatus{
			ObservedGeneration: 5, DesiredNumberScheduled: 4, UpdatedNumberScheduled: 4, NumberAvailable: 4, NumberReady: 4,
		},
	}
	if edit != nil {
		edit(ds)
	}
	return ds
}

func TestDaemonSetRollout(t *testing.T) {
	tests := map[string]struct {
		edit  func(*appsv1.DaemonSet)
		phase Phase
	}{
		"every desired pod updated and available is complete": {phase: PhaseComplete},
		"an unobserved generation is progressing": {
			edit: func(ds *appsv1.DaemonSet) { ds.Status.ObservedGeneration = 4 }, phase: PhaseProgressing,
		},
		"pods not updated is progressing": {
			edit: func(ds *appsv1.DaemonSet) { ds.Status.UpdatedNumberScheduled = 3 }, phase: PhaseProgressing,
		},
		"pods not available is progressing": {
			edit: func(ds *appsv1.DaemonSet) { ds.Status.NumberAvailable = 3 }, phase: PhaseProgressing,
		},
		"no node to run on is complete": {
			edit: func(ds *appsv1.DaemonSet) { ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: 5} }, phase: PhaseComplete,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := DaemonSetRollout(daemonSet(tt.edit)); got.Phase != tt.phase {
				t.Errorf("got %s (%s), want %s", got.Phase, got.Message, tt.phase)
			}
		})
	}
	onDelete := daemonSet(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType })
	if got := DaemonSetBlocked(onDelete); !strings.Contains(got, "OnDelete") {
		t.Errorf("an OnDelete DaemonSet: %q", got)
	}
	if got := DaemonSetBlocked(daemonSet(nil)); got != "" {
		t.Errorf("a rolling DaemonSet is blocked: %q", got)
	}
}
