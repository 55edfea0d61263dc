package rebootstrap

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// reasonProgressDeadlineExceeded is the reason of a Deployment's Progressing=False condition
// once its progress deadline passed (the Deployment controller's constant lives in an
// internal package).
const reasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"

// DeploymentRollout reads a Deployment's rollout from its status: complete when the
// controller observed the latest generation and every replica is updated, ready and
// available with no old replica left; failed when its Progressing condition is False with
// reason ProgressDeadlineExceeded for the latest generation.
func DeploymentRollout(d *appsv1.Deployment) Rollout {
	want := ptr.Deref(d.Spec.Replicas, 1)
	st := &d.Status
	if st.ObservedGeneration < d.Generation {
		return progressing("waiting for the Deployment controller to observe generation %d", d.Generation)
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse &&
			c.Reason == reasonProgressDeadlineExceeded {
			return Rollout{Phase: PhaseFailed, Message: c.Message}
		}
	}
	switch {
	case st.UpdatedReplicas < want:
		return progressing("%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return progressing("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
	case st.ReadyReplicas < want:
		return progressing("%d of %d updated replicas ready", st.ReadyReplicas, want)
	case st.AvailableReplicas < want:
		return progressing("%d of %d updated replicas available", st.AvailableReplicas, want)
	}
	return Rollout{Phase: PhaseComplete, Message: fmt.Sprintf("%d replicas updated and available", want)}
}

// DeploymentBlocked says why stamping would not roll d ("" when it would).
func DeploymentBlocked(d *appsv1.Deployment) string {
	if d.Spec.Paused {
		return "the Deployment is paused"
	}
	return ""
}

// StatefulSetRollout reads a StatefulSet's rollout from its status, as kubectl rollout
// status does: complete when the controller observed the latest generation, every replica
// is ready and available, and the update revision is current (for a partitioned rolling
// update: every replica at or above the partition is updated). A StatefulSet has no progress
// deadline, so it never fails: a stuck one stays rolling.
func StatefulSetRollout(s *appsv1.StatefulSet) Rollout {
	want := ptr.Deref(s.Spec.Replicas, 1)
	st := &s.Status
	if st.ObservedGeneration < s.Generation {
		return progressing("waiting for the StatefulSet controller to observe generation %d", s.Generation)
	}
	switch {
	case st.ReadyReplicas < want:
		return progressing("%d of %d replicas ready", st.ReadyReplicas, want)
	case st.AvailableReplicas < want:
		return progressing("%d of %d replicas available", st.AvailableReplicas, want)
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		ru != nil && ptr.Deref(ru.Partition, 0) > 0 {
		if part := ptr.Deref(ru.Partition, 0); st.UpdatedReplicas < want-part {
			return progressing("%d of %d replicas above partition %d updated", st.UpdatedReplicas, want-part, part)
		}
		return Rollout{Phase: PhaseComplete, Message: "every replica above the partition is updated"}
	}
	if st.UpdateRevision != st.CurrentRevision || st.UpdatedReplicas < want {
		return progressing("%d of %d replicas updated to revision %s", st.UpdatedReplicas, want, st.UpdateRevision)
	}
	return Rollout{Phase: PhaseComplete, Message: fmt.Sprintf("%d replicas at revision %s", want, st.UpdateRevision)}
}

// StatefulSetBlocked says why stamping would not roll s ("" when it would).
func StatefulSetBlocked(s *appsv1.StatefulSet) string {
	if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return "the StatefulSet's update strategy is OnDelete"
	}
	return ""
}

// DaemonSetRollout reads a DaemonSet's rollout from its status: complete when the
// controller observed the latest generation and every desired pod is updated and available.
// A DaemonSet has no progress deadline, so it never fails.
func DaemonSetRollout(ds *appsv1.DaemonSet) Rollout {
	st := &ds.Status
	if st.ObservedGeneration < ds.Generation {
		return progressing("waiting for the DaemonSet controller to observe generation %d", ds.Generation)
	}
	switch {
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return progressing("%d of %d pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return progressing("%d of %d updated pods available", st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return Rollout{Phase: PhaseComplete, Message: fmt.Sprintf("%d pods updated and available", st.DesiredNumberScheduled)}
}

// DaemonSetBlocked says why stamping would not roll ds ("" when it would).
func DaemonSetBlocked(ds *appsv1.DaemonSet) string {
	if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return "the DaemonSet's update strategy is OnDelete"
	}
	return ""
}

func progressing(format string, args ...any) Rollout {
	return Rollout{Phase: PhaseProgressing, Message: fmt.Sprintf(format, args...)}
}
