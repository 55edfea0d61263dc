package rollout

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// InjectorDeployment names the injector's Deployment in the control-plane namespace, whose
// --max-concurrent-rollouts bounds the controller's rollouts.
const InjectorDeployment = "osm-injector"

// maxConcurrentFlag is the injector's flag that bounds the rollouts.
const maxConcurrentFlag = "--max-concurrent-rollouts"

// Verdict is what a MeshConfig change would do to one workload.
type Verdict string

const (
	// VerdictRoll: the controller would stamp it and it rolls.
	VerdictRoll Verdict = "roll"
	// VerdictUnchanged: its pods run its target, and the change leaves the mesh's effective
	// tracing settings as they are.
	VerdictUnchanged Verdict = "unchanged"
	// VerdictPinned: the change alters the mesh's effective settings, but its annotations
	// (pod template or namespace) pin every field it changes: its target stays the same.
	VerdictPinned Verdict = "pinned"
	// VerdictOptedOut: annotated auto-rebootstrap: "false" (or a value other than "true"):
	// never stamped.
	VerdictOptedOut Verdict = "opted-out"
	// VerdictOutdated: its pods run its settings rendered by another osm-injector version;
	// not rolled unless asked.
	VerdictOutdated Verdict = "outdated"
	// VerdictBlocked: a paused Deployment or the OnDelete strategy: stamping would not roll
	// it, so it stays stale.
	VerdictBlocked Verdict = "blocked"
	// VerdictFailingTarget: its settings cannot be resolved (a malformed annotation).
	VerdictFailingTarget Verdict = "failing-target"
	// VerdictRolling: already rolling to its target, which the change does not move.
	VerdictRolling Verdict = "rolling"
	// VerdictFailed: its rollout to its target failed; the controller starts no other
	// rollout while it stays failed.
	VerdictFailed Verdict = "failed"
	// VerdictUninjected: some of its live pods run without the sidecar; the controller heals
	// it (rolls it once) when the webhook is ready, whatever the change.
	VerdictUninjected Verdict = "uninjected"
)

// Row is the preview of one workload or bare pod.
type Row struct {
	Namespace string  `json:"namespace"`
	Kind      string  `json:"kind"`
	Name      string  `json:"name"`
	Verdict   Verdict `json:"verdict"`
	// Before and After are its target bootstrap hashes without and with the change.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Reason string `json:"reason"`
}

// Ref is the row's kind/namespace/name.
func (r Row) Ref() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// Concurrency is the bound on rollouts at once and where it was read.
type Concurrency struct {
	Max    int    `json:"max"`
	Source string `json:"source"`
}

// Preview is what a MeshConfig change would do, decided by the controller's planner.
type Preview struct {
	MeshConfig string `json:"meshConfig"`
	// TargetBefore and TargetAfter name the mesh-wide settings (the status's target).
	TargetBefore string `json:"targetBefore"`
	TargetAfter  string `json:"targetAfter"`
	// RollOutdated is the edited spec.rebootstrap.onUpgrade.
	RollOutdated bool `json:"rollOutdated"`
	// Workloads holds one row per injected workload, in rollout order (namespace, name, kind).
	Workloads []Row `json:"workloads"`
	// Order lists the workloads to roll (kind/namespace/name) in the order their rollouts
	// would start; the first FirstBatch start at once.
	Order       []string    `json:"order"`
	FirstBatch  int         `json:"firstBatch"`
	Concurrency Concurrency `json:"concurrency"`
	// Paused says why no rollout would start (a failed rollout), when one would not.
	Paused string `json:"paused,omitempty"`
	// BarePods are the pods no workload owns that would run another bootstrap than their
	// target (stale or outdated): never restarted.
	BarePods []Row `json:"barePods"`
}

// Roll returns the workloads the change would roll (kind/namespace/name), in order.
func (p *Preview) Roll() []string { return p.Order }

// PreviewChange reads the MeshConfig controlPlane/name and the workloads once through c (it
// only reads: c is a client.Reader), applies edit to a copy of the MeshConfig, and runs the
// controller's Collect and Plan with the current and the edited settings, bounded by the
// injector Deployment's --max-concurrent-rollouts.
func PreviewChange(ctx context.Context, c client.Reader, controlPlane, name string, edit func(*v1alpha2.MeshConfig) error) (*Preview, error) {
	before := &v1alpha2.MeshConfig{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: controlPlane, Name: name}, before); err != nil {
		return nil, fmt.Errorf("when reading MeshConfig %s/%s: %w", controlPlane, name, err)
	}
	after := before.DeepCopy()
	if err := edit(after); err != nil {
		return nil, err
	}
	defaults := bootstrap.Defaults(controlPlane)
	meshBefore, errBefore := bootstrap.MeshTracing(defaults, &before.Spec.Observability)
	meshAfter, err := bootstrap.MeshTracing(defaults, &after.Spec.Observability)
	if err != nil {
		return nil, fmt.Errorf("the edited MeshConfig is not valid: %w", err)
	}
	conc, err := ReadConcurrency(ctx, c, controlPlane)
	if err != nil {
		return nil, err
	}
	snap, err := rebootstrap.ReadSnapshot(ctx, c, controlPlane, defaults, before)
	if err != nil {
		return nil, err
	}
	var h rebootstrap.Hasher
	wsBefore, _ := rebootstrap.Collect(snap, h.Hash)
	snapAfter := *snap
	snapAfter.Mesh = &after.Spec.Observability
	ws, bare := rebootstrap.Collect(&snapAfter, h.Hash)
	plan := rebootstrap.Plan(rebootstrap.Input{
		Workloads: ws, BarePods: bare, MaxConcurrent: conc.Max, RollOutdated: after.Spec.Rebootstrap.OnUpgrade,
	})

	p := &Preview{
		MeshConfig:   controlPlane + "/" + name,
		TargetAfter:  rebootstrap.MeshTarget(meshAfter),
		RollOutdated: after.Spec.Rebootstrap.OnUpgrade,
		Concurrency:  conc,
		Workloads:    []Row{},
		Order:        []string{},
		BarePods:     []Row{},
	}
	meshChanged := errBefore != nil || meshBefore != meshAfter
	if errBefore == nil {
		p.TargetBefore = rebootstrap.MeshTarget(meshBefore)
	}
	targetsBefore := make(map[rebootstrap.Ref]string, len(wsBefore))
	for i := range wsBefore {
		targetsBefore[wsBefore[i].Ref] = wsBefore[i].Target
	}
	for i := range plan.Decisions {
		d := &plan.Decisions[i]
		row := Row{Namespace: d.Ref.Namespace, Kind: d.Ref.Kind, Name: d.Ref.Name, Before: targetsBefore[d.Ref], After: d.Target}
		if d.Ref.Kind == bootstrap.KindPod {
			row.Before = ""
			row.Verdict, row.Reason = Verdict(d.State), d.Reason
			p.BarePods = append(p.BarePods, row)
			continue
		}
		row.Verdict, row.Reason = verdict(d, row.Before, meshChanged)
		if row.Verdict == VerdictRoll {
			p.Order = append(p.Order, d.Ref.String())
			if d.Stamp {
				p.FirstBatch++
			}
		}
		p.Workloads = append(p.Workloads, row)
	}
	if plan.Paused {
		for _, r := range p.Workloads {
			if r.Verdict == VerdictFailed {
				p.Paused = "the rollout of " + r.Ref() + " failed: no rollout starts until it recovers or the MeshConfig changes again"
				break
			}
		}
	}
	return p, nil
}

// verdict turns the planner's decision on a workload (with the change) into the preview's
// verdict; before is its target without the change.
func verdict(d *rebootstrap.Decision, before string, meshChanged bool) (Verdict, string) {
	switch {
	case d.State == rebootstrap.StateInvalid:
		return VerdictFailingTarget, d.Reason
	case d.OptedOut:
		return VerdictOptedOut, d.Reason
	case d.State == rebootstrap.StatePending && before != d.Target:
		return VerdictRoll, fmt.Sprintf("its target bootstrap moves from %s to %s (its pods run %s)", before, d.Target, d.Current)
	case d.State == rebootstrap.StatePending:
		return VerdictRoll, "already due without the change: " + strings.SplitN(d.Reason, "; waiting for a rollout slot", 2)[0]
	case d.State == rebootstrap.StateStale:
		return VerdictBlocked, d.Reason
	case d.State == rebootstrap.StateOutdated:
		return VerdictOutdated, d.Reason
	case d.State == rebootstrap.StateRolling:
		return VerdictRolling, d.Reason
	case d.State == rebootstrap.StateFailed:
		return VerdictFailed, d.Reason
	case d.State == rebootstrap.StateUninjected:
		return VerdictUninjected, d.Reason
	case before == d.Target && meshChanged:
		return VerdictPinned, "its annotations (pod template or namespace) pin every field the change touches: " +
			"its target stays " + d.Target
	case before == d.Target:
		return VerdictUnchanged, "the change leaves the mesh's effective tracing settings as they are; " + d.Reason
	}
	return VerdictUnchanged, d.Reason
}

// ReadConcurrency reads --max-concurrent-rollouts from the args of the injector's Deployment
// (controlPlane/osm-injector); without the Deployment or the flag, the injector's default.
func ReadConcurrency(ctx context.Context, c client.Reader, controlPlane string) (Concurrency, error) {
	def := Concurrency{Max: rebootstrap.DefaultMaxConcurrent}
	where := "Deployment " + controlPlane + "/" + InjectorDeployment
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: controlPlane, Name: InjectorDeployment}, d); err != nil {
		if apierrors.IsNotFound(err) {
			def.Source = "the injector's default (no " + where + ")"
			return def, nil
		}
		return def, fmt.Errorf("when reading %s: %w", where, err)
	}
	for _, ctr := range d.Spec.Template.Spec.Containers {
		args := append(append([]string{}, ctr.Command...), ctr.Args...)
		for i, a := range args {
			var value string
			switch {
			case strings.HasPrefix(a, maxConcurrentFlag+"="):
				value = strings.TrimPrefix(a, maxConcurrentFlag+"=")
			case strings.HasPrefix(a, maxConcurrentFlag[1:]+"="): // -flag=value
				value = strings.TrimPrefix(a, maxConcurrentFlag[1:]+"=")
			case (a == maxConcurrentFlag || a == maxConcurrentFlag[1:]) && i+1 < len(args):
				value = args[i+1]
			default:
				continue
			}
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return def, fmt.Errorf("%s, container %s: %s=%q is not a whole number of at least 1",
					where, ctr.Name, maxConcurrentFlag, value)
			}
			return Concurrency{Max: n, Source: fmt.Sprintf("%s=%d in %s", maxConcurrentFlag, n, where)}, nil
		}
	}
	def.Source = fmt.Sprintf("the injector's default (%s sets no %s)", where, maxConcurrentFlag)
	return def, nil
}
