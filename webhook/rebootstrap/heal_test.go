package rebootstrap

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func uninjected(n int) func(*Workload) { return func(w *Workload) { w.Uninjected = n } }

// healedAt sets the generation the workload was healed at and its generation now.
func healedAt(healed, now int64) func(*Workload) {
	return func(w *Workload) { w.HealedAt, w.Generation = healed, now }
}

func TestPlanHeal(t *testing.T) {
	tests := map[string]struct {
		w         Workload
		healWait  string
		hold      bool
		state     State
		heal      bool
		reasonHas string
	}{
		"a current workload with pods without the sidecar is healed": {
			w: wl("a", pods("new"), uninjected(2)), state: StateUninjected, heal: true, reasonHas: "2 of its live pods",
		},
		"a workload with only pods without the sidecar is healed": {
			w: wl("a", pods(), uninjected(1)), state: StateUninjected, heal: true,
		},
		"a workload stamped with its target and rolled out is healed": {
			w: wl("a", stamped("new"), pods("new"), uninjected(1)), state: StateUninjected, heal: true,
		},
		"an outdated workload with pods without the sidecar is healed": {
			w: wl("a", pods(), rendered("r", "s-new"), uninjected(1)), state: StateUninjected, heal: true,
		},
		"a pending workload rolls as pending anyway": {
			w: wl("a", pods("old"), uninjected(1)), state: StatePending, heal: false,
		},
		"a rolling workload is left rolling": {
			w: wl("a", stamped("new"), phase(PhaseProgressing), uninjected(1)), state: StateRolling,
		},
		"a failed workload stays failed": {
			w: wl("a", stamped("new"), phase(PhaseFailed), uninjected(1)), state: StateFailed,
		},
		"an invalid workload stays invalid": {
			w: wl("a", invalid, uninjected(1)), state: StateInvalid,
		},
		"an opted-out workload is reported, not healed": {
			w: wl("a", pods("new"), optOut, uninjected(1)), state: StateUninjected, reasonHas: "opted out",
		},
		"an opted-out stale workload is reported uninjected, not healed": {
			w: wl("a", pods("old"), optOut, uninjected(1)), state: StateUninjected, reasonHas: "opted out",
		},
		"a blocked workload is reported, not healed": {
			w: wl("a", pods("new"), blocked, uninjected(1)), state: StateUninjected, reasonHas: "paused",
		},
		"a workload healed at this generation whose new pods lack the sidecar is not healed again": {
			w: wl("a", pods("new"), uninjected(1), healedAt(4, 5)), state: StateUninjected, reasonHas: "healed at generation 4",
		},
		"a workload healed at an older generation is healed again once its spec changed": {
			w: wl("a", pods("new"), uninjected(1), healedAt(4, 6)), state: StateUninjected, heal: true,
		},
		"while the webhook is not ready, it is reported, not healed": {
			w: wl("a", pods("new"), uninjected(1)), healWait: "the webhook server is not serving yet",
			state: StateUninjected, reasonHas: "not serving yet",
		},
		"a hold does not keep it from being planned for healing (the settle hold is for settings changes), but no slot is given": {
			w: wl("a", pods("new"), uninjected(1)), hold: true, state: StateUninjected, heal: true, reasonHas: "held",
		},
		"no pods without the sidecar: nothing to heal": {
			w: wl("a", pods("new")), state: StateUpdated,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res := Plan(Input{
				Workloads: []Workload{tt.w}, MaxConcurrent: 1, HealWait: tt.healWait,
				Hold: tt.hold, HoldReason: "settling",
			})
			d := res.Decisions[0]
			if d.State != tt.state || d.Heal != tt.heal {
				t.Errorf("state %s heal %t, want %s heal %t (reason %q)", d.State, d.Heal, tt.state, tt.heal, d.Reason)
			}
			if wantStamp := tt.heal && !tt.hold; d.Heal && d.Stamp != wantStamp {
				t.Errorf("stamp %t, want %t", d.Stamp, wantStamp)
			}
			if !strings.Contains(d.Reason, tt.reasonHas) {
				t.Errorf("reason %q does not contain %q", d.Reason, tt.reasonHas)
			}
			if d.Heal && d.Generation != tt.w.Generation {
				t.Errorf("generation %d, want %d", d.Generation, tt.w.Generation)
			}
		})
	}
}

// Heals share the rollout bound with pending workloads, in rollout order, and wait while a
// rollout is failed.
func TestPlanHealIsBounded(t *testing.T) {
	ws := []Workload{
		wl("a", pods("new"), uninjected(1)),
		wl("b", pods("old")),
		wl("c", pods("new"), uninjected(3)),
		wl("d", stamped("new"), phase(PhaseProgressing)),
	}
	res := Plan(Input{Workloads: ws, MaxConcurrent: 3})
	if got := stamps(res); !slices.Equal(got, []string{"ns/a", "ns/b"}) {
		t.Errorf("stamps %v, want ns/a and ns/b (one slot taken by d)", got)
	}
	if s := Summarize(res.Decisions); s.Uninjected != 2 || s.Pending != 1 || s.Rolling != 1 ||
		!slices.Equal(s.UninjectedWorkloads, []string{"Deployment/ns/a", "Deployment/ns/c"}) {
		t.Errorf("summary %+v", s)
	}
	ws = append(ws, wl("e", stamped("new"), phase(PhaseFailed)))
	if res := Plan(Input{Workloads: ws, MaxConcurrent: 5}); len(stamps(res)) != 0 || !res.Paused {
		t.Errorf("a failed rollout did not pause the heals: stamps %v", stamps(res))
	}
}

func TestPlanReportsUninjectedBarePods(t *testing.T) {
	res := Plan(Input{BarePods: []BarePod{
		{Ref: Ref{Kind: bootstrap.KindPod, Namespace: "ns", Name: "solo"}, Uninjected: true},
		{Ref: Ref{Kind: bootstrap.KindPod, Namespace: "ns", Name: "ok"}, Run: PodRun{Hash: "t"}, Target: "t"},
	}})
	if len(res.Decisions) != 1 || res.Decisions[0].State != StateUninjected || res.Decisions[0].Stamp || res.Stamps != 0 {
		t.Fatalf("decisions %+v, want the uninjected bare pod only, never stamped", res.Decisions)
	}
	if s := Summarize(res.Decisions); s.Uninjected != 1 || s.Workloads != 0 {
		t.Errorf("summary %+v", s)
	}
}

func TestHealMark(t *testing.T) {
	at := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  int64
	}{
		{HealValue(7, at), 7},
		{"generation=12,at=x", 12},
		{"at=x, generation=3", 3},
		{"", 0},
		{"2026-12-04T18:00:00Z", 0},
		{"generation=-1", 0},
		{"generation=x", 0},
	}
	for _, tt := range tests {
		if got := HealedGeneration(tt.value); got != tt.want {
			t.Errorf("HealedGeneration(%q) = %d, want %d", tt.value, got, tt.want)
		}
	}
	if v := HealValue(7, at); v != "generation=7,at=2026-12-04T18:00:00Z" {
		t.Errorf("HealValue = %q", v)
	}
	body, err := HealPatch("h1", 7, at)
	if err != nil || !strings.Contains(string(body), `"`+HealAnnotation+`":"generation=7,at=2026-12-04T18:00:00Z"`) ||
		!strings.Contains(string(body), `"`+bootstrap.BootstrapHashKey+`":"h1"`) {
		t.Errorf("HealPatch = %s, %v", body, err)
	}
	if strings.HasPrefix(HealAnnotation, bootstrap.AnnotationPrefix) {
		t.Errorf("%s is under %s, whose unknown keys Resolve refuses", HealAnnotation, bootstrap.AnnotationPrefix)
	}
}

// TestReconcileHealsOnlyWhenTheWebhookIsReady: pods without the sidecar are reported while
// HealReady fails, then healed within the bound once it passes, and not healed twice at one
// generation.
func TestReconcileHealsOnlyWhenTheWebhookIsReady(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"a", "b", "c"} {
		f.withoutSidecar(name + "-1-x")
	}
	r := f.reconciler()
	notReady := errors.New("the webhook server is not serving yet")
	r.Options.HealReady = func() error { return notReady }
	if res := f.reconcile(r); res.RequeueAfter == 0 {
		t.Error("no requeue while heals wait for the webhook")
	}
	rb := f.status().Status.Rebootstrap
	if rb.Uninjected != 3 || len(rb.UninjectedWorkloads) != 3 || rb.Pending != 0 || stampOf(f.deployment("a")) != "" {
		t.Fatalf("status %+v, stamp %q: want 3 uninjected, none stamped", rb, stampOf(f.deployment("a")))
	}
	if ev := f.events(); !strings.Contains(ev, EventUninjected) || !strings.Contains(ev, "not serving yet") {
		t.Errorf("events %q lack %s naming the wait", ev, EventUninjected)
	}

	r.Options.HealReady = func() error { return nil }
	f.reconcile(r)
	var healed []string
	for _, name := range []string{"a", "b", "c"} {
		d := f.deployment(name)
		if v := d.Spec.Template.Annotations[HealAnnotation]; v != "" {
			healed = append(healed, name)
			if HealedGeneration(v) != d.Generation || stampOf(d) == "" {
				t.Errorf("%s: heal mark %q at generation %d, stamp %q", name, v, d.Generation, stampOf(d))
			}
		}
	}
	if !slices.Equal(healed, []string{"a", "b"}) {
		t.Fatalf("healed %v, want a and b (the bound is 2)", healed)
	}
	if ev := f.events(); !strings.Contains(ev, EventHealed) {
		t.Errorf("events %q lack %s", ev, EventHealed)
	}
	if rb := f.status().Status.Rebootstrap; rb.Rolling != 2 || rb.Uninjected != 1 {
		t.Errorf("status %+v: want 2 rolling, 1 uninjected", rb)
	}

	// a's rollout completes at the next generation, but its pod is still without the sidecar
	// (the webhook was down again): it is reported, not healed again.
	d := f.deployment("a")
	f.setRollout("a", d.Generation+1, PhaseComplete, "")
	f.reconcile(r)
	d = f.deployment("a")
	if HealedGeneration(d.Spec.Template.Annotations[HealAnnotation]) != d.Generation-1 {
		t.Errorf("a was healed again: annotations %v at generation %d", d.Spec.Template.Annotations, d.Generation)
	}
	st := f.status().Status.Rebootstrap
	if !slices.Contains(st.UninjectedWorkloads, "Deployment/app/a") {
		t.Errorf("a is not reported uninjected: %+v", st)
	}
	if ev := f.events(); !strings.Contains(ev, "not rolled again until its spec changes") {
		t.Errorf("events %q do not say why a is not healed again", ev)
	}
}

// TestReconcileHealsAfterTheFirstHold: an injector that starts again after an outage holds
// its first pass for the settle delay; with only workloads to heal (none pending), it must
// still come back when the hold ends, not wait for some unrelated event.
func TestReconcileHealsAfterTheFirstHold(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, name := range []string{"b", "c"} { // a alone: nothing pending
		if err := f.c.Delete(ctx, f.deployment(name)); err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name + "-1-x"}}
		if err := f.c.Delete(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	f.withoutSidecar("a-1-x")
	r := f.reconciler()
	r.Options.SettleDelay = time.Second
	if res := f.reconcile(r); res.RequeueAfter != time.Second {
		t.Fatalf("requeue after %s while a heal is held, want the settle delay", res.RequeueAfter)
	}
	if d := f.deployment("a"); d.Spec.Template.Annotations[HealAnnotation] != "" {
		t.Fatal("healed during the hold")
	}
	r.Now = func() time.Time { return time.Unix(1_800_000_001, 0) }
	f.reconcile(r)
	if d := f.deployment("a"); d.Spec.Template.Annotations[HealAnnotation] == "" {
		t.Fatalf("not healed once the hold ended: %v", d.Spec.Template.Annotations)
	}
}

// withoutSidecar makes the fixture's pod name in namespace app one admitted without the
// sidecar (no hash labels).
func (f *fixture) withoutSidecar(name string) {
	f.t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{}
	if err := f.c.Get(ctx, types.NamespacedName{Namespace: "app", Name: name}, pod); err != nil {
		f.t.Fatal(err)
	}
	delete(pod.Labels, bootstrap.BootstrapHashKey)
	delete(pod.Labels, bootstrap.SettingsHashKey)
	if err := f.c.Update(ctx, pod); err != nil {
		f.t.Fatal(err)
	}
}
