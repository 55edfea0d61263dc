package rebootstrap

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Ref names a workload or a bare pod.
type Ref struct {
	// Kind is bootstrap.KindDeployment, KindStatefulSet or KindDaemonSet, or
	// bootstrap.KindPod for a bare pod (one no Deployment, StatefulSet or DaemonSet owns).
	Kind      string
	Namespace string
	Name      string
}

// String is kind/namespace/name, the form the MeshConfig status lists.
func (r Ref) String() string {
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// compareRefs orders refs by namespace, name, then kind: the order rollouts start in.
func compareRefs(a, b Ref) int {
	return cmp.Or(
		strings.Compare(a.Namespace, b.Namespace),
		strings.Compare(a.Name, b.Name),
		strings.Compare(a.Kind, b.Kind),
	)
}

// Phase is where a workload's own rollout stands, as its controller reports it.
type Phase int

const (
	// PhaseComplete: the controller observed the latest generation and every replica is
	// updated, ready and available, with no old replica left.
	PhaseComplete Phase = iota
	// PhaseProgressing: a rollout is under way (or the controller has not observed the
	// latest generation yet).
	PhaseProgressing
	// PhaseFailed: the rollout stopped progressing (a Deployment's progress deadline was
	// exceeded). StatefulSets and DaemonSets have no deadline and never fail.
	PhaseFailed
)

func (p Phase) String() string {
	switch p {
	case PhaseComplete:
		return "complete"
	case PhaseProgressing:
		return "progressing"
	case PhaseFailed:
		return "failed"
	}
	return "unknown"
}

// Rollout is a workload's rollout phase and a human-readable detail.
type Rollout struct {
	Phase   Phase
	Message string
}

// PodRun is what a live injected pod runs: the core's inject.PodRun, read from its labels.
type PodRun = inject.PodRun

// Workload is what the planner knows of one injected Deployment, StatefulSet or DaemonSet.
type Workload struct {
	Ref Ref
	// UID and Generation identify the object the facts were read from.
	UID        types.UID
	Generation int64
	// Target is the bootstrap hash its pods would get now and TargetSettings the settings hash
	// (bootstrap.SettingsHash) of the settings it is generated from. TargetErr is set instead
	// when the settings cannot be resolved (a malformed annotation on the template or
	// namespace).
	Target         string
	TargetSettings string
	TargetErr      error
	// Stamped is the template's bootstrap-hash annotation ("" when never stamped).
	Stamped string
	// Pods counts the workload's live (not terminating) injected pods by what they run.
	Pods map[PodRun]int
	// OptedOut is set by the annotation auto-rebootstrap: "false" on the workload or its
	// template; OptOutReason says which.
	OptedOut     bool
	OptOutReason string
	// Blocked is non-empty when stamping cannot roll the workload (a paused Deployment, the
	// OnDelete update strategy): it says why.
	Blocked string
	// Rollout is the workload's own rollout, from its status.
	Rollout Rollout
	// Uninjected counts its live pods without the sidecar (no bootstrap-hash label): admitted
	// while the webhook was down or not matching yet (failurePolicy Ignore).
	Uninjected int
	// HealedAt is the generation the workload had when the controller last healed it (the
	// template annotation HealAnnotation), or 0. A heal bumps the generation once, so while
	// Generation <= HealedAt+1 nothing else changed the spec since: it is not healed again.
	HealedAt int64
}

// podsAt reports whether every live pod of the workload runs the target (true when it has
// none: a pod created now gets the webhook's current answer anyway).
func (w *Workload) podsAt() bool {
	for run, n := range w.Pods {
		if n > 0 && w.standing(run) != inject.StandingCurrent {
			return false
		}
	}
	return true
}

// changed reports whether some live pod is stale (runs other settings than the target's): a
// change of settings, which rolls the workload. An outdated pod (another rendering of the
// target's settings, or no settings label) is not changed: see inject.PodStanding.
func (w *Workload) changed() bool {
	for run, n := range w.Pods {
		if n > 0 && w.standing(run) == inject.StandingStale {
			return true
		}
	}
	return false
}

// standing is where a pod of the workload stands against its target (inject.PodStanding).
func (w *Workload) standing(run PodRun) inject.Standing {
	return inject.PodStanding(run, w.Target, w.TargetSettings)
}

// running returns the hashes the workload's pods run, for messages ("a, b"), or "" when
// it has no pods.
func (w *Workload) running() string {
	set := map[string]bool{}
	for run, n := range w.Pods {
		if n > 0 {
			set[run.Hash] = true
		}
	}
	hashes := slices.Sorted(maps.Keys(set))
	return strings.Join(hashes, ", ")
}

// BarePod is an injected pod no followed workload owns (no controller, or a Job, or a custom
// controller). It is never touched; it is reported as stale when it runs another hash than
// its target.
type BarePod struct {
	Ref Ref
	UID types.UID
	// Run is what it runs; Target and TargetSettings what it would get now.
	Run            PodRun
	Target         string
	TargetSettings string
	TargetErr      error
	// Uninjected is set for a live pod without the sidecar (Run is then empty).
	Uninjected bool
}

// State is where a workload stands against its target. States are exclusive.
type State string

const (
	// StateUpdated: runs the target (stamped with it and rolled out, or all its pods run it).
	StateUpdated State = "updated"
	// StatePending: needs a rollout and waits for a slot (or for a pause to lift).
	StatePending State = "pending"
	// StateRolling: stamped with the target, rollout not complete yet.
	StateRolling State = "rolling"
	// StateFailed: stamped with the target, rollout failed; it pauses the rest.
	StateFailed State = "failed"
	// StateOptedOut: opted out of re-bootstrap and runs the target anyway.
	StateOptedOut State = "opted-out"
	// StateStale: runs an old bootstrap and will not be rolled (opted out, blocked by its
	// update strategy, or a bare pod).
	StateStale State = "stale"
	// StateOutdated: its pods run the target's settings, but a bootstrap another osm-injector
	// version rendered (or were admitted by an injector older than the settings-hash label).
	// Not rolled unless asked (spec.rebootstrap.onUpgrade: true, osm proxy rollout
	// --outdated); never rolled when opted out, blocked, or a bare pod.
	StateOutdated State = "outdated"
	// StateInvalid: its target cannot be computed (malformed annotation); never stamped.
	StateInvalid State = "invalid"
	// StateUninjected: some of its live pods run without the sidecar (admitted while the
	// webhook was down or did not match yet). A workload not opted out, not blocked and not
	// healed at this generation already is healed: rolled like a pending one (Heal set), once
	// the webhook is ready. Bare pods without the sidecar are only reported.
	StateUninjected State = "uninjected"
)

// Decision is the planner's verdict on one workload or bare pod.
type Decision struct {
	Ref Ref
	UID types.UID
	// State is where it stands. A decision with Stamp set is pending until the stamp lands;
	// the reconciler then reports it as rolling.
	State State
	// Stamp asks the reconciler to stamp the template with Target now. With Heal set too, the
	// stamp also writes HealAnnotation, so that the template changes (and the workload rolls)
	// even when it is already stamped with Target.
	Stamp bool
	Heal  bool
	// Generation is the workload's generation the decision was made at (written in
	// HealAnnotation by a heal).
	Generation int64
	// Target is the hash the workload should run; Current what it runs now (the stamped
	// annotation, or the pods' hashes).
	Target  string
	Current string
	// OptedOut is set for opted-out workloads, whether stale or not.
	OptedOut bool
	// Reason says why, for Events and logs.
	Reason string
}
