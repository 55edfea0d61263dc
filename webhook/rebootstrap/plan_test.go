package rebootstrap

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// wl is a Deployment in namespace ns whose target is "new" (settings "s-new"), complete,
// with one pod on "old" (settings "s-old").
func wl(name string, edits ...func(*Workload)) Workload {
	w := Workload{
		Ref:            Ref{Kind: bootstrap.KindDeployment, Namespace: "ns", Name: name},
		Target:         "new",
		TargetSettings: "s-new",
		Pods:           map[PodRun]int{{Hash: "old", Settings: "s-old"}: 1},
		Rollout:        Rollout{Phase: PhaseComplete, Message: "done"},
	}
	for _, e := range edits {
		e(&w)
	}
	return w
}

func stamped(h string) func(*Workload) { return func(w *Workload) { w.Stamped = h } }

// pods sets pods on the given bootstraps, each generated from settings "s-<hash>".
func pods(hashes ...string) func(*Workload) {
	return func(w *Workload) {
		w.Pods = map[PodRun]int{}
		for _, h := range hashes {
			w.Pods[PodRun{Hash: h, Settings: "s-" + h}]++
		}
	}
}

// rendered adds a pod on bootstrap hash with settings (the target's "s-new" for one an
// upgrade re-rendered, "" for one an injector older than the settings label admitted).
func rendered(hash, settings string) func(*Workload) {
	return func(w *Workload) {
		if w.Pods == nil {
			w.Pods = map[PodRun]int{}
		}
		w.Pods[PodRun{Hash: hash, Settings: settings}]++
	}
}
func phase(p Phase) func(*Workload) {
	return func(w *Workload) { w.Rollout = Rollout{Phase: p, Message: p.String() + " detail"} }
}
func optOut(w *Workload)            { w.OptedOut, w.OptOutReason = true, "opted out" }
func blocked(w *Workload)           { w.Blocked = "the Deployment is paused" }
func invalid(w *Workload)           { w.Target, w.TargetErr = "", errors.New("bad annotation") }
func kind(k string) func(*Workload) { return func(w *Workload) { w.Ref.Kind = k } }
func ns(n string) func(*Workload)   { return func(w *Workload) { w.Ref.Namespace = n } }

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		w            Workload
		rollOutdated bool
		state        State
		stamp        bool
		current      string
		reasonHas    string
	}{
		"a workload never stamped whose pods run the target is left alone": {
			w: wl("a", pods("new", "new")), state: StateUpdated, current: "new",
		},
		"a workload never stamped whose pods run another hash is stamped": {
			w: wl("a", pods("old")), state: StatePending, stamp: true, current: "old", reasonHas: "run bootstrap old",
		},
		"a workload whose pods run mixed hashes is stamped": {
			w: wl("a", pods("new", "old")), state: StatePending, stamp: true, current: "new, old",
		},
		"a workload without pods needs no stamp: new pods get the target from the webhook": {
			w: wl("a", pods()), state: StateUpdated,
		},
		"a workload stamped with an old hash whose pods already run the target is left alone": {
			w: wl("a", stamped("older"), pods("new")), state: StateUpdated, current: "older",
		},
		"a workload stamped with an old hash and pods on it is stamped": {
			w: wl("a", stamped("old"), pods("old")), state: StatePending, stamp: true, current: "old",
		},
		"a workload stamped with an old hash is stamped even while its own rollout runs": {
			w: wl("a", stamped("old"), pods("old", "older"), phase(PhaseProgressing)), state: StatePending, stamp: true,
		},
		"a workload stamped with the target whose rollout is complete is updated": {
			w: wl("a", stamped("new"), pods("new")), state: StateUpdated, current: "new", reasonHas: "rolled out",
		},
		"a workload stamped with the target whose rollout completed is updated even if the pod cache lags": {
			w: wl("a", stamped("new"), pods("old")), state: StateUpdated,
		},
		"a workload stamped with the target whose rollout progresses is rolling": {
			w: wl("a", stamped("new"), phase(PhaseProgressing)), state: StateRolling, reasonHas: "progressing detail",
		},
		"a workload stamped with the target whose rollout failed is failed": {
			w: wl("a", stamped("new"), phase(PhaseFailed)), state: StateFailed, reasonHas: "failed detail",
		},
		"a workload never stamped whose own rollout failed is still stamped": {
			w: wl("a", phase(PhaseFailed)), state: StatePending, stamp: true,
		},
		"an opted-out workload on an old bootstrap is stale and never stamped": {
			w: wl("a", optOut), state: StateStale, reasonHas: "restart it",
		},
		"an opted-out workload on the target is opted out": {
			w: wl("a", optOut, pods("new")), state: StateOptedOut,
		},
		"an opted-out workload stamped with an old hash is stale, not stamped": {
			w: wl("a", optOut, stamped("old")), state: StateStale,
		},
		"an opted-out workload whose rollout failed is stale, not failed": {
			w: wl("a", optOut, stamped("new"), phase(PhaseFailed)), state: StateStale,
		},
		"a workload whose settings cannot be resolved is invalid": {
			w: wl("a", invalid), state: StateInvalid, reasonHas: "bad annotation",
		},
		"an opted-out workload whose settings cannot be resolved is invalid": {
			w: wl("a", invalid, optOut), state: StateInvalid,
		},
		"a paused Deployment on an old bootstrap is stale": {
			w: wl("a", blocked), state: StateStale, reasonHas: "paused",
		},
		"a paused Deployment whose pods run the target is updated": {
			w: wl("a", blocked, pods("new")), state: StateUpdated,
		},
		"a Deployment paused after its stamp, mid-rollout, is stale rather than rolling forever": {
			w: wl("a", blocked, stamped("new"), phase(PhaseProgressing)), state: StateStale, reasonHas: "does not roll by itself",
		},
		"a paused Deployment stamped with the target and complete is updated": {
			w: wl("a", blocked, stamped("new")), state: StateUpdated,
		},
		"a failed rollout of a paused Deployment is still failed": {
			w: wl("a", blocked, stamped("new"), phase(PhaseFailed)), state: StateFailed,
		},
		"a StatefulSet follows the same rules": {
			w: wl("a", kind(bootstrap.KindStatefulSet), stamped("new"), phase(PhaseProgressing)), state: StateRolling,
		},
		"a DaemonSet follows the same rules": {
			w: wl("a", kind(bootstrap.KindDaemonSet)), state: StatePending, stamp: true,
		},
		"pods on the target's settings rendered by another injector version are outdated, not rolled": {
			w: wl("a", pods(), rendered("older-render", "s-new")), state: StateOutdated, current: "older-render",
			reasonHas: "another osm-injector version",
		},
		"pods without the settings label (an older injector) on another bootstrap are outdated": {
			w: wl("a", pods(), rendered("older-render", "")), state: StateOutdated, reasonHas: "onUpgrade",
		},
		"outdated pods beside pods on the target leave the workload outdated": {
			w: wl("a", pods("new"), rendered("older-render", "")), state: StateOutdated,
		},
		"a pod whose settings changed rolls the workload even beside outdated pods": {
			w: wl("a", pods("old"), rendered("older-render", "s-new")), state: StatePending, stamp: true,
		},
		"a pod on the target bootstrap is current whatever its settings label says": {
			w: wl("a", pods(), rendered("new", "s-other")), state: StateUpdated,
		},
		"outdated workloads roll when asked": {
			w: wl("a", pods(), rendered("older-render", "s-new")), rollOutdated: true, state: StatePending, stamp: true,
			reasonHas: "asked to roll",
		},
		"an opted-out outdated workload is outdated, never rolled, even when asked": {
			w: wl("a", optOut, pods(), rendered("older-render", "")), rollOutdated: true, state: StateOutdated,
			reasonHas: "opted out",
		},
		"a paused outdated Deployment is outdated, never rolled, even when asked": {
			w: wl("a", blocked, pods(), rendered("older-render", "s-new")), rollOutdated: true, state: StateOutdated,
			reasonHas: "paused",
		},
		"an outdated workload stamped with the target is rolling": {
			w: wl("a", stamped("new"), pods(), rendered("older-render", "s-new"), phase(PhaseProgressing)), state: StateRolling,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res := Plan(Input{Workloads: []Workload{tt.w}, MaxConcurrent: 10, RollOutdated: tt.rollOutdated})
			if len(res.Decisions) != 1 {
				t.Fatalf("got %d decisions, want 1", len(res.Decisions))
			}
			d := res.Decisions[0]
			if d.State != tt.state || d.Stamp != tt.stamp {
				t.Errorf("state %s stamp %t, want %s stamp %t (reason %q)", d.State, d.Stamp, tt.state, tt.stamp, d.Reason)
			}
			if tt.current != "" && d.Current != tt.current {
				t.Errorf("current %q, want %q", d.Current, tt.current)
			}
			if !strings.Contains(d.Reason, tt.reasonHas) {
				t.Errorf("reason %q does not contain %q", d.Reason, tt.reasonHas)
			}
			if d.Target != tt.w.Target || d.Ref != tt.w.Ref || d.OptedOut != tt.w.OptedOut {
				t.Errorf("decision %+v does not carry the workload's ref, target and opt-out", d)
			}
		})
	}
}

// stamps lists the names of the workloads a plan stamps.
func stamps(res Result) []string {
	var out []string
	for _, d := range res.Decisions {
		if d.Stamp {
			out = append(out, d.Ref.Namespace+"/"+d.Ref.Name)
		}
	}
	return out
}

func TestPlanConcurrency(t *testing.T) {
	six := []Workload{wl("f"), wl("b"), wl("d"), wl("a"), wl("e"), wl("c")}
	tests := map[string]struct {
		in         Input
		stamps     []string
		paused     bool
		rolling    int
		waitReason string
	}{
		"at most MaxConcurrent workloads are stamped, in namespace and name order": {
			in:         Input{Workloads: six, MaxConcurrent: 2},
			stamps:     []string{"ns/a", "ns/b"},
			waitReason: "waiting for a rollout slot (2 rolling, at most 2 at once)",
		},
		"workloads already rolling take their slots": {
			in: Input{Workloads: []Workload{
				wl("a", stamped("new"), phase(PhaseProgressing)), wl("b"), wl("c"), wl("d"),
			}, MaxConcurrent: 2},
			stamps: []string{"ns/b"}, rolling: 1,
		},
		"no workload is stamped while MaxConcurrent roll": {
			in: Input{Workloads: []Workload{
				wl("a", stamped("new"), phase(PhaseProgressing)), wl("b", stamped("new"), phase(PhaseProgressing)), wl("c"),
			}, MaxConcurrent: 2},
			rolling: 2, waitReason: "waiting for a rollout slot",
		},
		"more rolling than the bound (after the bound was lowered) stamps nothing": {
			in: Input{Workloads: []Workload{
				wl("a", stamped("new"), phase(PhaseProgressing)), wl("b", stamped("new"), phase(PhaseProgressing)), wl("c"),
			}, MaxConcurrent: 1},
			rolling: 2,
		},
		"a failed rollout pauses the rest": {
			in: Input{Workloads: []Workload{
				wl("a", stamped("new"), phase(PhaseFailed)), wl("b"), wl("c"),
			}, MaxConcurrent: 5},
			paused: true, waitReason: "paused: the rollout of Deployment/ns/a failed",
		},
		"a failed rollout does not stop those already rolling": {
			in: Input{Workloads: []Workload{
				wl("a", stamped("new"), phase(PhaseFailed)), wl("b", stamped("new"), phase(PhaseProgressing)), wl("c"),
			}, MaxConcurrent: 5},
			paused: true, rolling: 1,
		},
		"a hold stamps nothing and says why": {
			in:     Input{Workloads: six, MaxConcurrent: 2, Hold: true, HoldReason: "settling"},
			stamps: nil, waitReason: "held: settling",
		},
		"MaxConcurrent below 1 counts as 1": {
			in:     Input{Workloads: six, MaxConcurrent: 0},
			stamps: []string{"ns/a"},
		},
		"namespaces order before names": {
			in:     Input{Workloads: []Workload{wl("a", ns("z")), wl("z", ns("a"))}, MaxConcurrent: 1},
			stamps: []string{"a/z"},
		},
		"workloads that need nothing take no slot": {
			in: Input{Workloads: []Workload{
				wl("a", pods("new")), wl("b", optOut), wl("c", invalid), wl("d"),
			}, MaxConcurrent: 1},
			stamps: []string{"ns/d"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res := Plan(tt.in)
			if diff := cmp.Diff(tt.stamps, stamps(res)); diff != "" {
				t.Errorf("stamps (-want +got):\n%s", diff)
			}
			if res.Paused != tt.paused || res.Rolling != tt.rolling || res.Stamps != len(tt.stamps) {
				t.Errorf("paused %t rolling %d stamps %d, want %t %d %d", res.Paused, res.Rolling, res.Stamps,
					tt.paused, tt.rolling, len(tt.stamps))
			}
			if tt.waitReason == "" {
				return
			}
			found := false
			for _, d := range res.Decisions {
				if d.State == StatePending && !d.Stamp {
					found = true
					if !strings.Contains(d.Reason, tt.waitReason) {
						t.Errorf("%s: reason %q does not contain %q", d.Ref, d.Reason, tt.waitReason)
					}
				}
			}
			if !found {
				t.Errorf("no workload left pending")
			}
		})
	}
}

func TestPlanDoesNotModifyItsInput(t *testing.T) {
	in := []Workload{wl("b"), wl("a")}
	Plan(Input{Workloads: in, MaxConcurrent: 1})
	if in[0].Ref.Name != "b" || in[1].Ref.Name != "a" {
		t.Errorf("Plan reordered its input: %v", in)
	}
}

func TestPlanBarePods(t *testing.T) {
	pod := func(name, hash, target string, err error) BarePod {
		return BarePod{
			Ref: Ref{Kind: bootstrap.KindPod, Namespace: "ns", Name: name},
			Run: PodRun{Hash: hash, Settings: "s-" + hash}, Target: target, TargetSettings: "s-" + target, TargetErr: err,
		}
	}
	rerendered := pod("m-rerendered", "older-render", "new", nil)
	rerendered.Run.Settings = "s-new"
	unlabelled := pod("n-unlabelled", "older-render", "new", nil)
	unlabelled.Run.Settings = ""
	res := Plan(Input{
		Workloads: []Workload{wl("w")},
		BarePods: []BarePod{
			pod("z-old", "old", "new", nil),
			pod("current", "new", "new", nil),
			pod("unresolvable", "old", "", errors.New("bad")),
			pod("a-old", "old", "new", nil),
			rerendered, unlabelled,
		},
		MaxConcurrent: 1, RollOutdated: true,
	})
	var got []string
	for _, d := range res.Decisions {
		got = append(got, d.Ref.String()+"="+string(d.State))
		if d.Ref.Kind == bootstrap.KindPod && (d.Stamp || !strings.Contains(d.Reason, "never restarted")) {
			t.Errorf("bare pod decision %+v", d)
		}
	}
	want := []string{"Deployment/ns/w=pending", "Pod/ns/a-old=stale", "Pod/ns/m-rerendered=outdated",
		"Pod/ns/n-unlabelled=outdated", "Pod/ns/z-old=stale"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	in := Input{Workloads: []Workload{
		wl("c", pods("old", "x", "y")), wl("a", stamped("new"), phase(PhaseProgressing)), wl("b"), wl("d", optOut),
	}, MaxConcurrent: 2}
	first := Plan(in)
	for range 20 {
		if diff := cmp.Diff(first, Plan(in)); diff != "" {
			t.Fatalf("plans differ:\n%s", diff)
		}
	}
}
