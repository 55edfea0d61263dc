package rebootstrap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Input is everything Plan reads.
type Input struct {
	Workloads []Workload
	BarePods  []BarePod
	// MaxConcurrent bounds the workloads rolling at once; values below 1 count as 1.
	MaxConcurrent int
	// RollOutdated rolls outdated workloads too, like changed ones (the MeshConfig's
	// spec.rebootstrap.onUpgrade, or osm proxy rollout --outdated). Opted-out and blocked
	// workloads and bare pods stay outdated.
	RollOutdated bool
	// Hold, when set, starts no new rollout (HoldReason says why: the settings just changed
	// and are left to settle). Workloads already rolling are unaffected.
	Hold       bool
	HoldReason string
	// HealWait, when not empty, says why workloads with pods without the sidecar are not
	// healed now (the webhook is not serving yet, or its caBundle is not in place): they are
	// reported uninjected, not rolled. Other rollouts are unaffected.
	HealWait string
}

// Result is Plan's answer.
type Result struct {
	// Decisions holds one decision per workload, in rollout order (namespace, name, kind),
	// then one per stale bare pod.
	Decisions []Decision
	// Paused is set when a failed rollout keeps new rollouts from starting.
	Paused bool
	// Rolling counts the workloads rolling before any stamp of this plan; Stamps the
	// decisions with Stamp set.
	Rolling int
	Stamps  int
	// Waiting counts the workloads to roll (pending, or to heal) that this plan does not
	// stamp: no slot, paused or held.
	Waiting int
}

// Plan decides where every workload stands and which pending workloads to stamp now: as many
// as MaxConcurrent allows beside those rolling, none while any rollout is failed or Hold is
// set. Plan is pure: the same input gives the same result.
func Plan(in Input) Result {
	ws := slices.Clone(in.Workloads)
	slices.SortFunc(ws, func(a, b Workload) int { return compareRefs(a.Ref, b.Ref) })
	res := Result{Decisions: make([]Decision, 0, len(ws)+len(in.BarePods))}
	var pending, failed []int
	for i := range ws {
		d := classify(&ws[i], in.RollOutdated)
		if heal(&ws[i], &d, in.HealWait) {
			pending = append(pending, len(res.Decisions))
		}
		switch d.State {
		case StateRolling:
			res.Rolling++
		case StateFailed:
			failed = append(failed, len(res.Decisions))
		case StatePending:
			pending = append(pending, len(res.Decisions))
		}
		res.Decisions = append(res.Decisions, d)
	}
	res.Paused = len(failed) > 0
	slots := max(in.MaxConcurrent, 1) - res.Rolling
	var wait string
	switch {
	case res.Paused:
		slots = 0
		wait = "paused: the rollout of " + refList(res.Decisions, failed) + " failed"
	case in.Hold:
		slots = 0
		wait = "held: " + in.HoldReason
	}
	for _, i := range pending {
		d := &res.Decisions[i]
		if slots > 0 {
			d.Stamp = true
			slots--
			res.Stamps++
			continue
		}
		res.Waiting++
		if wait != "" {
			d.Reason += "; " + wait
		} else {
			d.Reason += fmt.Sprintf("; waiting for a rollout slot (%d rolling, at most %d at once)",
				res.Rolling+res.Stamps, max(in.MaxConcurrent, 1))
		}
	}
	res.Decisions = append(res.Decisions, barePodDecisions(in.BarePods)...)
	return res
}

// classify decides one workload's state, before rollout slots are handed out. A workload
// whose pods run other settings than its target's is rolled (pending); one whose pods run the
// target's settings rendered by another injector version is outdated, and rolled only when
// rollOutdated is set.
func classify(w *Workload, rollOutdated bool) Decision {
	d := Decision{Ref: w.Ref, UID: w.UID, Target: w.Target, Current: current(w), OptedOut: w.OptedOut}
	switch {
	case w.TargetErr != nil:
		d.State = StateInvalid
		d.Reason = "its tracing settings cannot be resolved: " + w.TargetErr.Error()
	case w.OptedOut && w.podsAt():
		d.State = StateOptedOut
		d.Reason = w.OptOutReason + "; its pods run the target bootstrap " + w.Target
	case w.OptedOut && !w.changed():
		d.State = StateOutdated
		d.Reason = fmt.Sprintf("%s; %s: restart it to pick up the new rendering", w.OptOutReason, outdatedWhy(w))
	case w.OptedOut:
		d.State = StateStale
		d.Reason = fmt.Sprintf("%s; its pods run bootstrap %s, not the target %s: restart it to apply the new tracing settings",
			w.OptOutReason, w.running(), w.Target)
	case w.Stamped == w.Target:
		d.State, d.Reason = classifyStamped(w)
	case w.podsAt():
		d.State = StateUpdated
		d.Reason = "its pods run the target bootstrap " + w.Target
	case !w.changed() && w.Blocked != "":
		d.State = StateOutdated
		d.Reason = fmt.Sprintf("%s; %s, so stamping would not roll it: restart it to pick up the new rendering",
			outdatedWhy(w), w.Blocked)
	case !w.changed() && !rollOutdated:
		d.State = StateOutdated
		d.Reason = outdatedWhy(w) + "; not rolled unless asked (MeshConfig spec.rebootstrap.onUpgrade: true, " +
			"or osm proxy rollout --outdated)"
	case !w.changed():
		d.State = StatePending
		d.Reason = outdatedWhy(w) + "; rolled because outdated workloads are asked to roll"
	case w.Blocked != "":
		d.State = StateStale
		d.Reason = fmt.Sprintf("%s, so stamping would not roll it; its pods run bootstrap %s, not the target %s: restart it to apply the new tracing settings",
			w.Blocked, w.running(), w.Target)
	default:
		d.State = StatePending
		d.Reason = fmt.Sprintf("its pods run bootstrap %s, the target is %s", w.running(), w.Target)
	}
	return d
}

// heal turns the decision of a workload with pods without the sidecar into an uninjected
// one, unless it rolls anyway (pending, rolling, failed) or cannot be computed (invalid). It
// reports whether the workload is to be healed now (rolled like a pending one): not opted
// out, not blocked, not healed at this generation already (its new pods are still
// uninjected: the webhook was down again; rolling again would loop), and healWait empty.
func heal(w *Workload, d *Decision, healWait string) bool {
	if w.Uninjected == 0 {
		return false
	}
	switch d.State {
	case StateUpdated, StateOptedOut, StateOutdated, StateStale:
	default:
		return false
	}
	d.State = StateUninjected
	d.Generation = w.Generation
	what := fmt.Sprintf("%d of its live pods run without the sidecar (admitted while the webhook was down or did not match)", w.Uninjected)
	switch {
	case w.OptedOut:
		d.Reason = fmt.Sprintf("%s; %s: restart it to inject them", what, w.OptOutReason)
	case w.Blocked != "":
		d.Reason = fmt.Sprintf("%s; %s, so a rollout would not restart them: restart it to inject them", what, w.Blocked)
	case w.HealedAt > 0 && w.Generation <= w.HealedAt+1:
		d.Reason = fmt.Sprintf("%s; it was healed at generation %d and its new pods are still uninjected: "+
			"not rolled again until its spec changes (check that the webhook is serving and matches its namespace)",
			what, w.HealedAt)
	case healWait != "":
		d.Reason = fmt.Sprintf("%s; healed once the webhook is ready: %s", what, healWait)
	default:
		d.Heal = true
		d.Reason = what + "; healing: rolled so that its new pods get the sidecar"
		return true
	}
	return false
}

// outdatedWhy says why an outdated workload's pods differ from the target.
func outdatedWhy(w *Workload) string {
	return fmt.Sprintf("its pods run bootstrap %s with the target's settings, rendered by another osm-injector "+
		"version (or by one older than the settings-hash label), not the target %s", w.running(), w.Target)
}

// classifyStamped decides the state of a workload whose template carries the target: its own
// rollout says the rest.
func classifyStamped(w *Workload) (State, string) {
	switch {
	case w.Rollout.Phase == PhaseComplete:
		return StateUpdated, "stamped with the target bootstrap " + w.Target + " and rolled out"
	case w.Rollout.Phase == PhaseFailed:
		return StateFailed, "rollout to bootstrap " + w.Target + " failed: " + w.Rollout.Message
	case w.Blocked != "":
		return StateStale, "stamped with the target bootstrap " + w.Target + " but " + w.Blocked +
			", so it does not roll by itself"
	}
	return StateRolling, "rolling to bootstrap " + w.Target + ": " + w.Rollout.Message
}

// current is what a workload runs now, for reports: its stamp, else its pods' hashes.
func current(w *Workload) string {
	if w.Stamped != "" {
		return w.Stamped
	}
	return w.running()
}

// barePodDecisions returns a decision for every bare pod that runs another bootstrap than its
// target: outdated or stale as inject.PodStanding says. Pods whose
// target cannot be computed are left out: they were admitted, so only their namespace's
// annotations can have gone bad, and the workloads there report that.
func barePodDecisions(pods []BarePod) []Decision {
	var out []Decision
	for _, p := range pods {
		if p.Uninjected {
			out = append(out, Decision{
				Ref: p.Ref, UID: p.UID, State: StateUninjected, Target: p.Target,
				Reason: "it runs without the sidecar (admitted while the webhook was down or did not match), and no " +
					"Deployment, StatefulSet or DaemonSet owns it, so it is never restarted: recreate it to inject it",
			})
			continue
		}
		standing := inject.PodStanding(p.Run, p.Target, p.TargetSettings)
		if p.TargetErr != nil || standing == inject.StandingCurrent {
			continue
		}
		d := Decision{Ref: p.Ref, UID: p.UID, State: StateStale, Target: p.Target, Current: p.Run.Hash}
		if standing == inject.StandingOutdated {
			d.State = StateOutdated
			d.Reason = fmt.Sprintf("no Deployment, StatefulSet or DaemonSet owns it, so it is never restarted; it runs bootstrap %s "+
				"with the target's settings, rendered by another osm-injector version, not the target %s: recreate it to pick up the new rendering",
				p.Run.Hash, p.Target)
		} else {
			d.Reason = fmt.Sprintf("no Deployment, StatefulSet or DaemonSet owns it, so it is never restarted; "+
				"it runs bootstrap %s, not the target %s: recreate it to apply the new tracing settings", p.Run.Hash, p.Target)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Decision) int { return compareRefs(a.Ref, b.Ref) })
	return out
}

// refList names the decisions at the given indexes, at most five, for messages.
func refList(ds []Decision, idx []int) string {
	const most = 5
	names := make([]string, 0, min(len(idx), most))
	for _, i := range idx[:min(len(idx), most)] {
		names = append(names, ds[i].Ref.String())
	}
	s := strings.Join(names, ", ")
	if len(idx) > most {
		s += fmt.Sprintf(" and %d more", len(idx)-most)
	}
	return s
}
