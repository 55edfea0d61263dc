package rebootstrap

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types the re-bootstrap controller owns on the MeshConfig.
const (
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
)

// Condition reasons.
const (
	// ReasonRollingOut: workloads are rolling or waiting for a slot (Progressing=True).
	ReasonRollingOut = "RollingOut"
	// ReasonRolloutPaused: a failed rollout keeps the rest from starting (Progressing=False).
	ReasonRolloutPaused = "RolloutPaused"
	// ReasonRolloutComplete: every workload that can be rolled runs its target
	// (Progressing=False).
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonRolloutFailed: a rollout failed (Degraded=True).
	ReasonRolloutFailed = "RolloutFailed"
	// ReasonInvalidMeshConfig: the MeshConfig's tracing settings are refused, nothing is
	// rolled (Progressing=False, Degraded=True).
	ReasonInvalidMeshConfig = "InvalidMeshConfig"
	// ReasonAsExpected: nothing failed (Degraded=False).
	ReasonAsExpected = "AsExpected"
)

// Conditions returns the Progressing and Degraded conditions for a summary (without
// LastTransitionTime: meta.SetStatusCondition keeps or sets it). hold, when not empty, says
// why no new rollout starts yet.
func Conditions(s Summary, target string, generation int64, maxConcurrent int, hold string) []metav1.Condition {
	progressing := metav1.Condition{Type: ConditionProgressing, ObservedGeneration: generation}
	degraded := metav1.Condition{
		Type: ConditionDegraded, ObservedGeneration: generation,
		Status: metav1.ConditionFalse, Reason: ReasonAsExpected, Message: "no rollout failed",
	}
	switch {
	case s.Failed > 0:
		failed := nameList(s.FailedWorkloads, s.Failed)
		progressing.Status = metav1.ConditionFalse
		progressing.Reason = ReasonRolloutPaused
		progressing.Message = fmt.Sprintf("paused: the rollout of %s failed; %d workloads wait until it "+
			"recovers or the MeshConfig changes again (%d of %d updated to target %s)",
			failed, s.Pending, s.Updated, s.Workloads, target)
		degraded.Status = metav1.ConditionTrue
		degraded.Reason = ReasonRolloutFailed
		degraded.Message = fmt.Sprintf("the rollout of %s failed (progress deadline exceeded); new rollouts are "+
			"paused until it recovers or the MeshConfig changes again", failed)
	case s.Rolling+s.Pending > 0:
		progressing.Status = metav1.ConditionTrue
		progressing.Reason = ReasonRollingOut
		progressing.Message = fmt.Sprintf("rolling to target %s: %d rolling, %d pending, %d of %d workloads updated "+
			"(at most %d at once)", target, s.Rolling, s.Pending, s.Updated, s.Workloads, max(maxConcurrent, 1))
		if hold != "" {
			progressing.Message += "; " + hold
		}
	default:
		progressing.Status = metav1.ConditionFalse
		progressing.Reason = ReasonRolloutComplete
		progressing.Message = fmt.Sprintf("every workload that can be rolled runs target %s (%d updated of %d)%s",
			target, s.Updated, s.Workloads, leftOut(s))
	}
	return []metav1.Condition{progressing, degraded}
}

// InvalidConditions are the conditions while the MeshConfig's tracing settings are refused.
func InvalidConditions(err error, generation int64) []metav1.Condition {
	msg := "the tracing settings are invalid, so no workload is rolled: " + err.Error()
	return []metav1.Condition{
		{
			Type: ConditionProgressing, Status: metav1.ConditionFalse, ObservedGeneration: generation,
			Reason: ReasonInvalidMeshConfig, Message: msg,
		},
		{
			Type: ConditionDegraded, Status: metav1.ConditionTrue, ObservedGeneration: generation,
			Reason: ReasonInvalidMeshConfig, Message: msg,
		},
	}
}

// leftOut describes the workloads a complete rollout did not reach, for messages.
func leftOut(s Summary) string {
	var parts []string
	if s.Stale > 0 {
		parts = append(parts, fmt.Sprintf("%d stale (never restarted: %s)", s.Stale, nameList(s.StaleWorkloads, s.Stale)))
	}
	if s.OptedOut > 0 {
		parts = append(parts, fmt.Sprintf("%d opted out", s.OptedOut))
	}
	if s.Outdated > 0 {
		parts = append(parts, fmt.Sprintf("%d outdated (rendered by another osm-injector version: %s; set "+
			"spec.rebootstrap.onUpgrade: true or run osm proxy rollout --outdated to roll them)",
			s.Outdated, nameList(s.OutdatedWorkloads, s.Outdated)))
	}
	if s.Uninjected > 0 {
		parts = append(parts, fmt.Sprintf("%d uninjected (pods without the sidecar: %s)", s.Uninjected,
			nameList(s.UninjectedWorkloads, s.Uninjected)))
	}
	if s.Invalid > 0 {
		parts = append(parts, fmt.Sprintf("%d invalid (%s)", s.Invalid, nameList(s.InvalidWorkloads, s.Invalid)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

// nameList names at most five of total workloads.
func nameList(names []string, total int) string {
	const most = 5
	s := strings.Join(names[:min(len(names), most)], ", ")
	if total > most {
		s += fmt.Sprintf(" and %d more", total-most)
	}
	return s
}
