package rebootstrap

import (
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// Event reasons. On a workload (or bare pod):
const (
	// EventStamped: the template was stamped; the workload rolls.
	EventStamped = "Rebootstrap"
	// EventSkipped: the workload (or bare pod) runs an old bootstrap and is not restarted.
	EventSkipped = "RebootstrapSkipped"
	// EventFailed: the workload's rollout failed; new rollouts are paused.
	EventFailed = "RebootstrapFailed"
	// EventInvalid: the workload's tracing settings cannot be resolved; it is not stamped.
	EventInvalid = "RebootstrapInvalid"
	// EventOutdated: the workload (or bare pod) runs its target's settings in a bootstrap
	// another osm-injector version rendered; it is not rolled unless asked.
	EventOutdated = "RebootstrapOutdated"
	// EventHealed: some pods of the workload ran without the sidecar; it was rolled.
	EventHealed = "SidecarHealed"
	// EventUninjected: the workload (or bare pod) has pods without the sidecar that are not
	// healed now (opted out, blocked, healed at this generation already, a bare pod, or the
	// webhook not ready yet).
	EventUninjected = "SidecarMissing"
)

// Event reasons on the MeshConfig:
const (
	EventTargetChanged = "TargetChanged"
	EventPaused        = "RolloutPaused"
	EventResumed       = "RolloutResumed"
	EventComplete      = "RebootstrapComplete"
	EventInvalidMesh   = "InvalidMeshConfig"
)

// EventSource is the reporting controller of the Events.
const EventSource = "osm-injector-rebootstrap"

// reportLedger remembers what was reported, so that Events mark changes rather than repeat
// on every reconcile. It starts from the MeshConfig status, so a restarted controller does
// not announce again what the status already says; per-workload Events may repeat once
// after a restart.
type reportLedger struct {
	mu        sync.Mutex
	started   bool
	mesh      meshReport
	workloads map[string]bool
	invalidAt int64
}

type meshReport struct {
	target      string
	progressing string
	degraded    bool
}

type eventKind struct {
	reason, action, eventType string
}

var (
	eventStamped    = eventKind{EventStamped, "Stamp", corev1.EventTypeNormal}
	eventSkipped    = eventKind{EventSkipped, "Skip", corev1.EventTypeWarning}
	eventFailed     = eventKind{EventFailed, "Pause", corev1.EventTypeWarning}
	eventInvalid    = eventKind{EventInvalid, "Skip", corev1.EventTypeWarning}
	eventOutdated   = eventKind{EventOutdated, "Skip", corev1.EventTypeNormal}
	eventHealed     = eventKind{EventHealed, "Heal", corev1.EventTypeNormal}
	eventUninjected = eventKind{EventUninjected, "Skip", corev1.EventTypeWarning}
)

// workloadEvent records an Event on the decision's workload (or pod), related to the
// MeshConfig.
func (r *Reconciler) workloadEvent(d *Decision, mc *v1alpha2.MeshConfig, k eventKind) {
	if r.Recorder == nil {
		return
	}
	var note string
	switch k {
	case eventHealed:
		note = fmt.Sprintf("%s; stamped the pod template with %s=%s and %s, so the %s rolls with its own update strategy",
			d.Reason, bootstrap.BootstrapHashKey, d.Target, HealAnnotation, d.Ref.Kind)
	case eventStamped:
		note = fmt.Sprintf("stamped the pod template with %s=%s (it ran %s): the tracing settings of MeshConfig %s "+
			"changed, so the %s rolls with its own update strategy", bootstrap.BootstrapHashKey, d.Target, orNone(d.Current), r.Key, d.Ref.Kind)
	default:
		note = d.Reason
	}
	r.Recorder.Eventf(objectRef(d), meshRef(mc), k.eventType, k.reason, k.action, "%s", truncateNote(note))
}

// decisionEvents emits an Event for every workload or pod that became stale, outdated,
// failed or invalid since the last reconcile.
func (r *Reconciler) decisionEvents(mc *v1alpha2.MeshConfig, ds []Decision) {
	r.reports.mu.Lock()
	defer r.reports.mu.Unlock()
	seen := make(map[string]bool, len(r.reports.workloads))
	for i := range ds {
		d := &ds[i]
		var k eventKind
		switch d.State {
		case StateStale:
			k = eventSkipped
		case StateOutdated:
			k = eventOutdated
		case StateFailed:
			k = eventFailed
		case StateInvalid:
			k = eventInvalid
		case StateUninjected:
			if d.Heal {
				continue // the heal's own Event says it
			}
			k = eventUninjected
		default:
			continue
		}
		key := d.Ref.String() + "|" + string(d.State) + "|" + d.Target
		seen[key] = true
		if r.reports.workloads[key] {
			continue
		}
		if d.State == StateFailed {
			failuresTotal.Inc()
		}
		r.workloadEvent(d, mc, k)
	}
	r.reports.workloads = seen
}

// meshEvents emits the MeshConfig's Events: a new target, a pause, a resume, completion.
func (r *Reconciler) meshEvents(mc *v1alpha2.MeshConfig, target string, s Summary) {
	r.reports.mu.Lock()
	defer r.reports.mu.Unlock()
	prev := r.reports.mesh
	if !r.reports.started {
		prev = meshReportOf(&mc.Status)
		r.reports.started = true
	}
	cur := meshReport{target: target, degraded: s.Failed > 0, progressing: ReasonRolloutComplete}
	switch {
	case s.Failed > 0:
		cur.progressing = ReasonRolloutPaused
	case s.Rolling+s.Pending > 0:
		cur.progressing = ReasonRollingOut
	}
	r.reports.mesh = cur
	if r.Recorder == nil {
		return
	}
	ref := meshRef(mc)
	if prev.target != target {
		was := "none"
		if prev.target != "" {
			was = prev.target
		}
		r.Recorder.Eventf(ref, nil, corev1.EventTypeNormal, EventTargetChanged, "Plan",
			"tracing target %s (was %s): %d workloads to roll (at most %d at once), %d already run it, %d opted out, %d stale, %d outdated",
			target, was, s.Pending+s.Rolling, max(r.Options.MaxConcurrent, 1), s.Updated, s.OptedOut, s.Stale, s.Outdated)
	}
	switch {
	case cur.degraded && !prev.degraded:
		r.Recorder.Eventf(ref, nil, corev1.EventTypeWarning, EventPaused, "Pause",
			"the rollout of %s failed (progress deadline exceeded): new rollouts are paused until it recovers "+
				"or the MeshConfig changes again", nameList(s.FailedWorkloads, s.Failed))
	case !cur.degraded && prev.degraded:
		r.Recorder.Eventf(ref, nil, corev1.EventTypeNormal, EventResumed, "Resume",
			"no rollout is failed any more: rollouts resume (%d pending)", s.Pending)
	}
	if cur.progressing == ReasonRolloutComplete && prev.progressing != ReasonRolloutComplete && prev.progressing != "" {
		r.Recorder.Eventf(ref, nil, corev1.EventTypeNormal, EventComplete, "Complete",
			"every workload that can be rolled runs target %s (%d updated of %d)%s", target, s.Updated, s.Workloads, leftOut(s))
	}
}

// invalidMeshEvent emits one Warning per generation whose tracing settings are refused.
func (r *Reconciler) invalidMeshEvent(mc *v1alpha2.MeshConfig, cause error) {
	r.reports.mu.Lock()
	defer r.reports.mu.Unlock()
	if r.reports.invalidAt == mc.Generation || r.Recorder == nil {
		return
	}
	r.reports.invalidAt = mc.Generation
	r.Recorder.Eventf(meshRef(mc), nil, corev1.EventTypeWarning, EventInvalidMesh, "Refuse",
		"%s", truncateNote("the tracing settings are invalid, so no workload is rolled: "+cause.Error()))
}

// meshReportOf reads what the status already reports.
func meshReportOf(st *v1alpha2.MeshConfigStatus) meshReport {
	var m meshReport
	if st.Rebootstrap != nil {
		m.target = st.Rebootstrap.Target
	}
	if c := meta.FindStatusCondition(st.Conditions, ConditionProgressing); c != nil {
		m.progressing = c.Reason
	}
	if c := meta.FindStatusCondition(st.Conditions, ConditionDegraded); c != nil {
		m.degraded = c.Reason == ReasonRolloutFailed && c.Status == "True"
	}
	return m
}

func objectRef(d *Decision) *corev1.ObjectReference {
	apiVersion := "apps/v1"
	if d.Ref.Kind == bootstrap.KindPod {
		apiVersion = "v1"
	}
	return &corev1.ObjectReference{
		APIVersion: apiVersion, Kind: d.Ref.Kind, Namespace: d.Ref.Namespace, Name: d.Ref.Name, UID: d.UID,
	}
}

func meshRef(mc *v1alpha2.MeshConfig) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion: v1alpha2.GroupVersion.String(), Kind: "MeshConfig",
		Namespace: mc.Namespace, Name: mc.Name, UID: mc.UID,
	}
}

// maxNote is the longest note events.k8s.io/v1 accepts (1 kB).
const maxNote = 1024

func truncateNote(s string) string {
	if len(s) <= maxNote {
		return s
	}
	return strings.ToValidUTF8(s[:maxNote-3], "") + "..."
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "no injected pod"
	}
	return s
}
