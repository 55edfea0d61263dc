package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// rbGuideTracing is the user guide's command, verbatim: it moves the collector to the control
// plane's Jaeger.
const rbGuideTracing = `{"enable":true,"address": "jaeger.osm-system.svc.cluster.local","port":9411,"endpoint":"/api/v2/spans"}`

// TestRebootstrap runs the re-bootstrap scenarios on one kwok cluster, one after the other,
// each in its own namespaces (unlabelled when done, so later MeshConfig changes leave them).
func TestRebootstrap(t *testing.T) {
	e := rbStart(t, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	steps := []struct {
		name string
		run  func(context.Context, *rbEnv)
	}{
		{"the guide's patch rolls exactly the workloads whose bootstrap changed", rbGuide},
		{"enable false rolls everything and enabling again rolls back", rbToggle},
		{"opted-out workloads and bare pods are reported stale and never restarted", rbOptOut},
		{"a namespace annotation rolls its StatefulSets and DaemonSets", rbKinds},
		{"never more than max-concurrent-rollouts roll at once", rbConcurrency},
		{"a restarted controller resumes without stamping anything twice", rbRestart},
		{"a failed rollout pauses the rest until it is fixed", rbPause},
		{"a new rendering of the same settings is outdated, rolled only when asked", rbUpgrade},
		{"workloads whose pods run without the sidecar are healed, bare pods reported", rbHeal},
		{"osm tracing plan names exactly the workloads the same patch rolls", rbPlan},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(ctx, e.sub(t)) }) {
			break // later steps rely on a clean state
		}
	}
	rbLogErrors(t)
}

// rbGuide: bookbuyer, bookstore-v1 (pins the address) and bookstore-v2; the guide's patch
// rolls bookbuyer and bookstore-v2 to a bootstrap with the new address, not v1.
func rbGuide(ctx context.Context, e *rbEnv) {
	t := e.t
	e.namespace(ctx, "bookbuyer")
	e.namespace(ctx, "bookstore")
	pinned := map[string]string{bootstrap.AnnotationAddress: "zipkin.bookstore.svc.cluster.local"}
	e.create(ctx,
		rbDeployment("bookbuyer", "bookbuyer", nil),
		rbDeployment("bookstore", "bookstore-v1", pinned),
		rbDeployment("bookstore", "bookstore-v2", nil),
	)
	before := e.waitStatus(ctx, "the controller to count the bookstore workloads", func(mc *v1alpha2.MeshConfig) error {
		if mc.Status.Rebootstrap.Workloads != 3 || mc.Status.Rebootstrap.Updated != 3 {
			return fmt.Errorf("want 3 workloads, all updated")
		}
		return rbSettled(mc)
	})
	// The first sight of workloads created before any change rolls nothing.
	time.Sleep(2 * rebootstrap.DefaultSettleDelay)
	type wl struct{ ns, name string }
	all := []wl{{"bookbuyer", "bookbuyer"}, {"bookstore", "bookstore-v1"}, {"bookstore", "bookstore-v2"}}
	old := map[string]string{}
	for _, w := range all {
		d := e.deployment(ctx, w.ns, w.name)
		if d.Generation != 1 || d.Spec.Template.Annotations[bootstrap.BootstrapHashKey] != "" {
			t.Errorf("%s was touched before any change: generation %d, annotations %v", w.name, d.Generation, d.Spec.Template.Annotations)
		}
		old[w.name] = e.currentHash(ctx, w.ns, w.name)
	}
	stampedBefore := rbMetric(t, "osm_rebootstrap_stamped_total", map[string]string{"kind": "Deployment"})

	e.patchTracing(rbGuideTracing)
	after := e.waitStatus(ctx, "the rollout to the new address", func(mc *v1alpha2.MeshConfig) error {
		if mc.Status.Rebootstrap.Target == before.Status.Rebootstrap.Target {
			return fmt.Errorf("target unchanged")
		}
		if mc.Status.Rebootstrap.Updated != 3 {
			return fmt.Errorf("want 3 updated")
		}
		return rbSettled(mc)
	})
	for _, w := range []wl{{"bookbuyer", "bookbuyer"}, {"bookstore", "bookstore-v2"}} {
		e.waitComplete(ctx, w.ns, w.name)
		d := e.deployment(ctx, w.ns, w.name)
		now := e.currentHash(ctx, w.ns, w.name)
		if d.Generation != 2 || d.Spec.Template.Annotations[bootstrap.BootstrapHashKey] != now || now == old[w.name] {
			t.Errorf("%s: generation %d, stamp %q, pods on %s (before %s); want generation 2, stamped with the pods' new hash",
				w.name, d.Generation, d.Spec.Template.Annotations[bootstrap.BootstrapHashKey], now, old[w.name])
		}
		yaml := e.bootstrapOf(ctx, w.ns, w.name)
		if !strings.Contains(yaml, "jaeger.osm-system.svc.cluster.local") || strings.Contains(yaml, "jaeger.observability") {
			t.Errorf("%s's new pods do not use the new address:\n%s", w.name, yaml)
		}
		if ev := e.waitEvent(ctx, "Deployment", w.ns, w.name, rebootstrap.EventStamped); !strings.Contains(ev, now) {
			t.Errorf("%s: event %q does not name the new hash %s", w.name, ev, now)
		}
	}
	v1 := e.deployment(ctx, "bookstore", "bookstore-v1")
	if v1.Generation != 1 || v1.Spec.Template.Annotations[bootstrap.BootstrapHashKey] != "" ||
		e.currentHash(ctx, "bookstore", "bookstore-v1") != old["bookstore-v1"] {
		t.Errorf("bookstore-v1 pins the address but was rolled: generation %d, annotations %v",
			v1.Generation, v1.Spec.Template.Annotations)
	}
	if yaml := e.bootstrapOf(ctx, "bookstore", "bookstore-v1"); !strings.Contains(yaml, "zipkin.bookstore.svc.cluster.local") {
		t.Errorf("bookstore-v1 lost its pinned address:\n%s", yaml)
	}
	e.waitEvent(ctx, "MeshConfig", rbControlPlane, rbMeshConfig, rebootstrap.EventTargetChanged)
	e.waitEvent(ctx, "MeshConfig", rbControlPlane, rbMeshConfig, rebootstrap.EventComplete)
	if got := rbMetric(t, "osm_rebootstrap_stamped_total", map[string]string{"kind": "Deployment"}) - stampedBefore; got != 2 {
		t.Errorf("osm_rebootstrap_stamped_total grew by %v, want 2", got)
	}
	if got := rbMetric(t, "osm_rebootstrap_workloads", map[string]string{"state": "updated"}); got != 3 {
		t.Errorf("osm_rebootstrap_workloads{state=updated} = %v, want 3", got)
	}
	if d := rbCondition(after, rebootstrap.ConditionDegraded); d == nil || d.Status != metav1.ConditionFalse {
		t.Errorf("Degraded: %+v", d)
	}
	out, _, err := e.c.Kubectl("get", "meshconfig", "-n", rbControlPlane, rbMeshConfig, "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the MeshConfig after the guide's patch:\n%s", out)
}

// rbToggle: turning tracing off changes every bootstrap (the pinned address does not pin
// enable), so all three roll; turning it on rolls them back to the bootstraps they had.
func rbToggle(ctx context.Context, e *rbEnv) {
	t := e.t
	names := [][2]string{{"bookbuyer", "bookbuyer"}, {"bookstore", "bookstore-v1"}, {"bookstore", "bookstore-v2"}}
	on := map[string]string{}
	gen := map[string]int64{}
	for _, n := range names {
		on[n[1]] = e.currentHash(ctx, n[0], n[1])
		gen[n[1]] = e.deployment(ctx, n[0], n[1]).Generation
	}
	for _, step := range []struct {
		patch   string
		tracing bool
	}{{`{"enable":false}`, false}, {`{"enable":true}`, true}} {
		e.patchTracing(step.patch)
		e.waitStatus(ctx, "the rollout after "+step.patch, func(mc *v1alpha2.MeshConfig) error {
			if mc.Status.Rebootstrap.Updated != 3 {
				return fmt.Errorf("want 3 updated")
			}
			return rbSettled(mc)
		})
		for _, n := range names {
			gen[n[1]]++
			e.waitComplete(ctx, n[0], n[1])
			d := e.deployment(ctx, n[0], n[1])
			hash := e.currentHash(ctx, n[0], n[1])
			if d.Generation != gen[n[1]] || d.Spec.Template.Annotations[bootstrap.BootstrapHashKey] != hash {
				t.Errorf("after %s, %s: generation %d (want %d), stamp %q, pods on %s", step.patch, n[1], d.Generation,
					gen[n[1]], d.Spec.Template.Annotations[bootstrap.BootstrapHashKey], hash)
			}
			if (hash == on[n[1]]) != step.tracing {
				t.Errorf("after %s, %s runs %s; with tracing on it ran %s", step.patch, n[1], hash, on[n[1]])
			}
			if yaml := e.bootstrapOf(ctx, n[0], n[1]); strings.Contains(yaml, bootstrap.TracingClusterName) != step.tracing {
				t.Errorf("after %s, %s's bootstrap has the tracing cluster: %t", step.patch, n[1], !step.tracing)
			}
		}
	}
	e.unlabel("bookbuyer")
	e.unlabel("bookstore")
}

// rbOptOut: an opted-out Deployment and a bare pod on the old bootstrap are reported stale,
// with Events, and left running.
func rbOptOut(ctx context.Context, e *rbEnv) {
	t := e.t
	e.namespace(ctx, "optout")
	kept := rbDeployment("optout", "kept", nil)
	kept.Annotations = map[string]string{bootstrap.AnnotationAutoRebootstrap: "false"}
	e.create(ctx, kept, rbDeployment("optout", "rolled", nil))
	solo := testPod("", nil)
	solo.Name, solo.Namespace = "solo", "optout"
	if err := e.cl.Create(ctx, solo); err != nil {
		t.Fatalf("creating the bare pod: %v", err)
	}
	waitPodReady(ctx, t, e.c.Clientset, "optout", "solo")
	if err := e.cl.Get(ctx, client.ObjectKeyFromObject(solo), solo); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ctx, "the opt-out namespace counted", func(mc *v1alpha2.MeshConfig) error {
		if rb := mc.Status.Rebootstrap; rb.Workloads != 2 || rb.OptedOut != 1 || rb.Stale != 0 {
			return fmt.Errorf("want 2 workloads, 1 opted out, none stale")
		}
		return rbSettled(mc)
	})
	keptHash := e.currentHash(ctx, "optout", "kept")

	e.patchTracing(`{"sampling":50}`)
	mc := e.waitStatus(ctx, "the stale report", func(mc *v1alpha2.MeshConfig) error {
		rb := mc.Status.Rebootstrap
		if rb.Stale != 2 || rb.OptedOut != 1 || rb.Updated != 1 ||
			!slices.Equal(rb.StaleWorkloads, []string{"Deployment/optout/kept", "Pod/optout/solo"}) {
			return fmt.Errorf("want kept and solo stale, rolled updated")
		}
		return rbSettled(mc)
	})
	t.Logf("status: %s", rbStatusString(mc))
	e.waitComplete(ctx, "optout", "rolled")
	if d := e.deployment(ctx, "optout", "rolled"); d.Generation != 2 {
		t.Errorf("the opted-in Deployment did not roll: generation %d", d.Generation)
	}
	if d := e.deployment(ctx, "optout", "kept"); d.Generation != 1 || e.currentHash(ctx, "optout", "kept") != keptHash {
		t.Errorf("the opted-out Deployment was touched: generation %d, annotations %v", d.Generation, d.Spec.Template.Annotations)
	}
	now := &corev1.Pod{}
	if err := e.cl.Get(ctx, client.ObjectKeyFromObject(solo), now); err != nil || now.UID != solo.UID || now.DeletionTimestamp != nil {
		t.Errorf("the bare pod was touched: %v", err)
	}
	e.waitEvent(ctx, "Deployment", "optout", "kept", rebootstrap.EventSkipped)
	e.waitEvent(ctx, "Pod", "optout", "solo", rebootstrap.EventSkipped)
	if got := rbMetric(t, "osm_rebootstrap_workloads", map[string]string{"state": "stale"}); got != 2 {
		t.Errorf("osm_rebootstrap_workloads{state=stale} = %v, want 2", got)
	}
	e.unlabel("optout")
}

// rbKinds: annotating a namespace changes the bootstrap of its workloads only: its
// StatefulSet and DaemonSet roll and complete.
func rbKinds(ctx context.Context, e *rbEnv) {
	t := e.t
	e.namespace(ctx, "kinds")
	sts, ds := rbStatefulSet("kinds", "db"), rbDaemonSet("kinds", "agent")
	for _, o := range []client.Object{sts, ds} {
		if err := e.cl.Create(ctx, o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}
	e.waitStatus(ctx, "the StatefulSet and DaemonSet counted", func(mc *v1alpha2.MeshConfig) error {
		if rb := mc.Status.Rebootstrap; rb.Workloads != 2 || rb.Updated != 2 {
			return fmt.Errorf("want 2 workloads updated")
		}
		return rbSettled(mc)
	})
	before := map[string]string{}
	for _, o := range []client.Object{sts, ds} {
		before[o.GetName()] = e.waitKindComplete(ctx, o, 1)
	}
	if _, _, err := e.c.Kubectl("annotate", "namespace", "kinds", bootstrap.AnnotationSampling+"=5"); err != nil {
		t.Fatalf("annotating the namespace: %v", err)
	}
	for kind, o := range map[string]client.Object{"StatefulSet": sts, "DaemonSet": ds} {
		if now := e.waitKindComplete(ctx, o, 2); now == before[o.GetName()] {
			t.Errorf("%s still runs %s", o.GetName(), now)
		}
		e.waitEvent(ctx, kind, "kinds", o.GetName(), rebootstrap.EventStamped)
	}
	e.waitStatus(ctx, "the rollout to finish", rbSettled)
	e.unlabel("kinds")
}

// rbConcurrency: six Deployments, at most two rolling at once, as seen by a watch.
func rbConcurrency(ctx context.Context, e *rbEnv) {
	names := e.fleet(ctx, "fleet", 6)
	w := e.watchRollouts(ctx, "fleet")
	base := e.generations(ctx, "fleet", names)
	e.patchTracing(`{"sampling":40}`)
	e.waitStamped(ctx, "fleet", names, base)
	peak, starts := w.result()
	e.t.Logf("rollouts started in order %v; at most %d at once", starts, peak)
	if peak > e.max || peak < 1 || len(starts) != len(names) {
		e.t.Errorf("peak %d concurrent rollouts (bound %d), %d rollouts started (want %d)", peak, e.max, len(starts), len(names))
	}
	e.unlabel("fleet")
}

// rbRestart: the controller stops mid-rollout and starts again; every Deployment ends
// stamped exactly once.
func rbRestart(ctx context.Context, e *rbEnv) {
	names := e.fleet(ctx, "restart", 6)
	w := e.watchRollouts(ctx, "restart")
	base := e.generations(ctx, "restart", names)
	e.patchTracing(`{"sampling":30}`)
	framework.Eventually(ctx, e.t, "two rollouts to start", func() error {
		if _, starts := w.result(); len(starts) < 2 {
			return fmt.Errorf("%d started", len(starts))
		}
		return nil
	})
	_, before := w.result()
	e.t.Logf("restarting the controller after rollouts %v started", before)
	e.restartController(ctx, e.max, 3*time.Second)
	e.waitStamped(ctx, "restart", names, base)
	peak, starts := w.result()
	e.t.Logf("rollouts started in order %v; at most %d at once", starts, peak)
	if len(before) == len(names) {
		e.t.Logf("every rollout had started before the restart: the restart only had to leave them alone")
	}
	if peak > e.max || len(starts) != len(names) {
		e.t.Errorf("peak %d (bound %d), %d rollouts started (want %d, each once)", peak, e.max, len(starts), len(names))
	}
	e.unlabel("restart")
}

// rbPause: with one rollout at a time, a Deployment that cannot schedule fails its progress
// deadline; the rest wait, the MeshConfig says Degraded; fixing it resumes them.
func rbPause(ctx context.Context, e *rbEnv) {
	t := e.t
	e.namespace(ctx, "fragile")
	broken := rbDeployment("fragile", "a-broken", nil)
	broken.Spec.ProgressDeadlineSeconds = ptr.To[int32](10)
	broken.Spec.Template.Spec.NodeSelector = map[string]string{"osm-e2e/no-such-node": "true"}
	if err := e.cl.Create(ctx, broken); err != nil {
		t.Fatal(err)
	}
	e.create(ctx, rbDeployment("fragile", "b-ok", nil), rbDeployment("fragile", "c-ok", nil))
	e.restartController(ctx, 1, 0)
	e.waitStatus(ctx, "the fragile namespace counted", func(mc *v1alpha2.MeshConfig) error {
		if mc.Status.Rebootstrap.Workloads != 3 {
			return fmt.Errorf("want 3 workloads")
		}
		return rbSettled(mc)
	})
	base := e.generations(ctx, "fragile", []string{"b-ok", "c-ok"})

	e.patchTracing(`{"sampling":20}`)
	mc := e.waitStatus(ctx, "the pause", func(mc *v1alpha2.MeshConfig) error {
		rb := mc.Status.Rebootstrap
		d := rbCondition(mc, rebootstrap.ConditionDegraded)
		p := rbCondition(mc, rebootstrap.ConditionProgressing)
		switch {
		case rb.Failed != 1 || !slices.Equal(rb.FailedWorkloads, []string{"Deployment/fragile/a-broken"}) || rb.Pending != 2:
			return fmt.Errorf("want a-broken failed, two pending")
		case d == nil || d.Status != metav1.ConditionTrue || d.Reason != rebootstrap.ReasonRolloutFailed ||
			!strings.Contains(d.Message, "Deployment/fragile/a-broken"):
			return fmt.Errorf("Degraded is %+v", d)
		case p == nil || p.Status != metav1.ConditionFalse || p.Reason != rebootstrap.ReasonRolloutPaused:
			return fmt.Errorf("Progressing is %+v", p)
		}
		return nil
	})
	t.Logf("paused: %s", rbStatusString(mc))
	e.waitEvent(ctx, "MeshConfig", rbControlPlane, rbMeshConfig, rebootstrap.EventPaused)
	e.waitEvent(ctx, "Deployment", "fragile", "a-broken", rebootstrap.EventFailed)
	if got := rbMetric(t, "osm_rebootstrap_paused", nil); got != 1 {
		t.Errorf("osm_rebootstrap_paused = %v, want 1", got)
	}
	time.Sleep(5 * time.Second)
	if now := e.generations(ctx, "fragile", []string{"b-ok", "c-ok"}); !slices.Equal(now, base) {
		t.Errorf("rollouts started while paused: generations %v, before %v", now, base)
	}

	fix := []byte(`{"spec":{"template":{"spec":{"nodeSelector":null}}}}`)
	if err := e.cl.Patch(ctx, e.deployment(ctx, "fragile", "a-broken"), client.RawPatch(types.MergePatchType, fix)); err != nil {
		t.Fatalf("fixing a-broken: %v", err)
	}
	e.waitStamped(ctx, "fragile", []string{"b-ok", "c-ok"}, base)
	e.waitComplete(ctx, "fragile", "a-broken")
	e.waitStatus(ctx, "the rollout to finish", func(mc *v1alpha2.MeshConfig) error {
		if d := rbCondition(mc, rebootstrap.ConditionDegraded); d == nil || d.Status != metav1.ConditionFalse {
			return fmt.Errorf("still degraded")
		}
		return rbSettled(mc)
	})
	e.waitEvent(ctx, "MeshConfig", rbControlPlane, rbMeshConfig, rebootstrap.EventResumed)
	e.restartController(ctx, 2, 0)
	e.unlabel("fragile")
}

// fleet creates n one-replica Deployments in a new labelled namespace and waits until the
// controller counts them, settled.
func (e *rbEnv) fleet(ctx context.Context, ns string, n int) []string {
	e.namespace(ctx, ns)
	var deps []*appsv1.Deployment
	var names []string
	for i := range n {
		d := rbDeployment(ns, fmt.Sprintf("%s-%d", ns, i+1), nil)
		deps = append(deps, d)
		names = append(names, d.Name)
	}
	e.create(ctx, deps...)
	e.waitStatus(ctx, "the controller to count namespace "+ns, func(mc *v1alpha2.MeshConfig) error {
		if int(mc.Status.Rebootstrap.Workloads) != n {
			return fmt.Errorf("want %d workloads", n)
		}
		return rbSettled(mc)
	})
	return names
}

func (e *rbEnv) generations(ctx context.Context, ns string, names []string) []int64 {
	out := make([]int64, 0, len(names))
	for _, n := range names {
		out = append(out, e.deployment(ctx, ns, n).Generation)
	}
	return out
}

// waitStamped waits until every named Deployment was stamped exactly once since base (one
// generation more, annotated with the hash its pods now run) and rolled out, and the status
// is settled.
func (e *rbEnv) waitStamped(ctx context.Context, ns string, names []string, base []int64) {
	e.t.Helper()
	framework.Eventually(ctx, e.t, "every Deployment of "+ns+" stamped and rolled out", func() error {
		for i, n := range names {
			d := &appsv1.Deployment{}
			if err := e.cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, d); err != nil {
				return err
			}
			if d.Generation > base[i]+1 {
				return fmt.Errorf("%w: %s was stamped more than once (generation %d, base %d)", framework.ErrStop, n, d.Generation, base[i])
			}
			if d.Generation != base[i]+1 || !rbComplete(d) {
				return fmt.Errorf("%s: generation %d, complete %t", n, d.Generation, rbComplete(d))
			}
			hashes, err := e.podHashes(ctx, d)
			if err != nil {
				return err
			}
			if stamp := d.Spec.Template.Annotations[bootstrap.BootstrapHashKey]; len(hashes) != 1 || hashes[0] != stamp {
				return fmt.Errorf("%s: stamped %q, pods on %q", n, stamp, hashes)
			}
		}
		mc, err := e.meshConfig(ctx)
		if err != nil {
			return err
		}
		return rbSettled(mc)
	})
}

// rbUpgrade: pods relabelled as another injector version would have left them (same
// settings hash, another bootstrap hash; or no settings hash at all) are reported outdated
// and not rolled; osm proxy rollout --outdated rolls those of one namespace, and
// spec.rebootstrap.onUpgrade: true the rest, under the controller's bound.
func rbUpgrade(ctx context.Context, e *rbEnv) {
	t := e.t
	e.namespace(ctx, "upgrade")
	e.namespace(ctx, "upgrade-cli")
	e.create(ctx, rbDeployment("upgrade", "rerendered", nil), rbDeployment("upgrade", "older", nil),
		rbDeployment("upgrade-cli", "cli", nil))
	e.waitStatus(ctx, "the upgrade namespaces counted", func(mc *v1alpha2.MeshConfig) error {
		if rb := mc.Status.Rebootstrap; rb.Workloads != 3 || rb.Updated != 3 {
			return fmt.Errorf("want 3 workloads, all updated")
		}
		return rbSettled(mc)
	})
	const otherRender = "0123456789"
	e.relabelPods(ctx, "upgrade", "rerendered", map[string]any{bootstrap.BootstrapHashKey: otherRender})
	e.relabelPods(ctx, "upgrade", "older", map[string]any{bootstrap.BootstrapHashKey: otherRender, bootstrap.SettingsHashKey: nil})
	e.relabelPods(ctx, "upgrade-cli", "cli", map[string]any{bootstrap.BootstrapHashKey: otherRender})
	want := []string{"Deployment/upgrade/older", "Deployment/upgrade/rerendered", "Deployment/upgrade-cli/cli"}
	mc := e.waitStatus(ctx, "the outdated report", func(mc *v1alpha2.MeshConfig) error {
		if rb := mc.Status.Rebootstrap; rb.Outdated != 3 || rb.Pending != 0 || !slices.Equal(rb.OutdatedWorkloads, want) {
			return fmt.Errorf("want %v outdated, none pending", want)
		}
		return rbSettled(mc)
	})
	t.Logf("status: %s", rbStatusString(mc))
	if p := rbCondition(mc, rebootstrap.ConditionProgressing); p == nil || !strings.Contains(p.Message, "3 outdated") {
		t.Errorf("Progressing does not name the outdated workloads: %+v", p)
	}
	e.waitEvent(ctx, "Deployment", "upgrade", "older", rebootstrap.EventOutdated)
	if got := rbMetric(t, "osm_rebootstrap_workloads", map[string]string{"state": "outdated"}); got != 3 {
		t.Errorf("osm_rebootstrap_workloads{state=outdated} = %v, want 3", got)
	}
	time.Sleep(2 * rebootstrap.DefaultSettleDelay)
	if gens := e.generations(ctx, "upgrade", []string{"rerendered", "older"}); !slices.Equal(gens, []int64{1, 1}) {
		t.Errorf("outdated workloads rolled unasked: generations %v", gens)
	}

	// On demand, one namespace.
	res := e.osm().ok("proxy", "rollout", "--outdated", "-n", "upgrade-cli")
	t.Logf("osm proxy rollout --outdated -n upgrade-cli:\n%s", res.stdout)
	cliContains(t, "osm proxy rollout", res.stdout, "rolled Deployment/upgrade-cli/cli", "1 outdated workloads stamped")
	e.waitStamped(ctx, "upgrade-cli", []string{"cli"}, []int64{1})
	if gens := e.generations(ctx, "upgrade", []string{"rerendered", "older"}); !slices.Equal(gens, []int64{1, 1}) {
		t.Errorf("osm proxy rollout -n upgrade-cli rolled namespace upgrade: generations %v", gens)
	}

	// By policy: the controller rolls the rest.
	patch := `{"spec":{"rebootstrap":{"onUpgrade":true}}}`
	if _, _, err := e.c.Kubectl("patch", "meshconfig", rbMeshConfig, "-n", rbControlPlane, "-p", patch, "--type=merge"); err != nil {
		t.Fatalf("setting onUpgrade: %v", err)
	}
	e.waitStamped(ctx, "upgrade", []string{"older", "rerendered"}, []int64{1, 1})
	e.waitStatus(ctx, "nothing outdated", func(mc *v1alpha2.MeshConfig) error {
		if mc.Status.Rebootstrap.Outdated != 0 {
			return fmt.Errorf("still outdated")
		}
		return rbSettled(mc)
	})
	patch = `{"spec":{"rebootstrap":null}}`
	if _, _, err := e.c.Kubectl("patch", "meshconfig", rbMeshConfig, "-n", rbControlPlane, "-p", patch, "--type=merge"); err != nil {
		t.Fatalf("unsetting onUpgrade: %v", err)
	}
	e.unlabel("upgrade")
	e.unlabel("upgrade-cli")
}

// relabelPods merges labels (nil removes one) into the live pods of Deployment ns/name, as
// another injector version would have labelled them.
func (e *rbEnv) relabelPods(ctx context.Context, ns, name string, labels map[string]any) {
	e.t.Helper()
	pods := &corev1.PodList{}
	if err := e.cl.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": name}); err != nil {
		e.t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range pods.Items {
		if err := e.cl.Patch(ctx, &pods.Items[i], client.RawPatch(types.MergePatchType, body)); err != nil {
			e.t.Fatalf("relabelling pod %s/%s: %v", ns, pods.Items[i].Name, err)
		}
	}
}

// rbHeal: a Deployment and a bare pod created before their namespace joined the mesh run
// without the sidecar (the webhook's namespaceSelector did not match them yet, as when the
// webhook is down with failurePolicy Ignore). Once the namespace is labelled both are
// reported uninjected; the Deployment, opted out at first, is healed as soon as the opt-out
// goes: it rolls and its new pods carry the sidecar. The bare pod is only reported.
func rbHeal(ctx context.Context, e *rbEnv) {
	t := e.t
	createNamespace(ctx, t, e.c, "heal", nil)
	mended := rbDeployment("heal", "mended", nil)
	mended.Annotations = map[string]string{bootstrap.AnnotationAutoRebootstrap: "false"}
	if err := e.cl.Create(ctx, mended); err != nil {
		t.Fatalf("creating Deployment heal/mended: %v", err)
	}
	solo := testPod("", nil)
	solo.Name, solo.Namespace = "solo", "heal"
	if err := e.cl.Create(ctx, solo); err != nil {
		t.Fatalf("creating the bare pod: %v", err)
	}
	waitPodReady(ctx, t, e.c.Clientset, "heal", "solo")
	framework.Eventually(ctx, t, "heal/mended available without the sidecar", func() error {
		d := e.deployment(ctx, "heal", "mended")
		if !rbComplete(d) {
			return fmt.Errorf("status %+v", d.Status)
		}
		hashes, err := e.podHashes(ctx, d)
		if err != nil {
			return err
		}
		if !slices.Equal(hashes, []string{""}) {
			return fmt.Errorf("pod hashes %q, want only pods without the sidecar", hashes)
		}
		return nil
	})
	if err := e.cl.Get(ctx, client.ObjectKeyFromObject(solo), solo); err != nil {
		t.Fatal(err)
	}
	healedBefore := rbMetric(t, "osm_rebootstrap_healed_total", map[string]string{"kind": "Deployment"})

	if _, _, err := e.c.Kubectl("label", "namespace", "heal", bootstrap.InjectionLabel+"=enabled"); err != nil {
		t.Fatalf("labelling namespace heal: %v", err)
	}
	want := []string{"Deployment/heal/mended", "Pod/heal/solo"}
	mc := e.waitStatus(ctx, "the uninjected report", func(mc *v1alpha2.MeshConfig) error {
		if rb := mc.Status.Rebootstrap; rb.Uninjected != 2 || !slices.Equal(rb.UninjectedWorkloads, want) {
			return fmt.Errorf("want %v uninjected", want)
		}
		return rbSettled(mc)
	})
	t.Logf("status: %s", rbStatusString(mc))
	if p := rbCondition(mc, rebootstrap.ConditionProgressing); p == nil || !strings.Contains(p.Message, "2 uninjected") {
		t.Errorf("Progressing does not name the uninjected workloads: %+v", p)
	}
	if got := rbMetric(t, "osm_rebootstrap_workloads", map[string]string{"state": "uninjected"}); got != 2 {
		t.Errorf("osm_rebootstrap_workloads{state=uninjected} = %v, want 2", got)
	}
	e.waitEvent(ctx, "Deployment", "heal", "mended", rebootstrap.EventUninjected)
	e.waitEvent(ctx, "Pod", "heal", "solo", rebootstrap.EventUninjected)
	if d := e.deployment(ctx, "heal", "mended"); d.Generation != 1 {
		t.Errorf("the opted-out Deployment was rolled: generation %d", d.Generation)
	}

	// The opt-out goes: the controller heals it, and its new pods carry the sidecar.
	start := time.Now()
	if _, _, err := e.c.Kubectl("annotate", "deployment", "-n", "heal", "mended", bootstrap.AnnotationAutoRebootstrap+"-"); err != nil {
		t.Fatalf("removing the opt-out: %v", err)
	}
	e.waitComplete(ctx, "heal", "mended")
	if took := time.Since(start); took > time.Minute {
		t.Errorf("healing took %s, want under a minute", took)
	}
	// A Deployment's generation also moves with its own annotations (the opt-out's removal):
	// the heal is the one change after it.
	d := e.deployment(ctx, "heal", "mended")
	hash := e.currentHash(ctx, "heal", "mended")
	if healedAt := rebootstrap.HealedGeneration(d.Spec.Template.Annotations[rebootstrap.HealAnnotation]); healedAt < 2 ||
		d.Generation != healedAt+1 || d.Spec.Template.Annotations[bootstrap.BootstrapHashKey] != hash {
		t.Errorf("heal/mended: generation %d, template annotations %v; want stamped with its pods' hash %s "+
			"and healed at the generation before", d.Generation, d.Spec.Template.Annotations, hash)
	}
	e.waitEvent(ctx, "Deployment", "heal", "mended", rebootstrap.EventHealed)
	mc = e.waitStatus(ctx, "only the bare pod uninjected", func(mc *v1alpha2.MeshConfig) error {
		if rb := mc.Status.Rebootstrap; rb.Uninjected != 1 || !slices.Equal(rb.UninjectedWorkloads, want[1:]) {
			return fmt.Errorf("want %v uninjected", want[1:])
		}
		return rbSettled(mc)
	})
	t.Logf("status: %s", rbStatusString(mc))
	if got := rbMetric(t, "osm_rebootstrap_healed_total", map[string]string{"kind": "Deployment"}) - healedBefore; got != 1 {
		t.Errorf("osm_rebootstrap_healed_total grew by %v, want 1", got)
	}
	now := &corev1.Pod{}
	if err := e.cl.Get(ctx, client.ObjectKeyFromObject(solo), now); err != nil || now.UID != solo.UID || now.DeletionTimestamp != nil {
		t.Errorf("the bare pod was touched: %v", err)
	}
	e.unlabel("heal")
}

// rbPlanPreview is the part of osm tracing plan -o json the test reads.
type rbPlanPreview struct {
	Workloads []struct {
		Namespace, Kind, Name, Verdict, After string
	}
	Order       []string
	Concurrency struct {
		Max    int
		Source string
	}
}

// rbPlan: osm tracing plan -p previews a patch without changing anything; the same patch
// applied with kubectl then rolls exactly the workloads the plan said "roll", each stamped
// with the bootstrap hash the plan predicted, and no other.
func rbPlan(ctx context.Context, e *rbEnv) {
	t := e.t
	e.namespace(ctx, "plan")
	kept := rbDeployment("plan", "kept", nil)
	kept.Annotations = map[string]string{bootstrap.AnnotationAutoRebootstrap: "false"}
	e.create(ctx, rbDeployment("plan", "plan-1", nil), rbDeployment("plan", "plan-2", nil),
		rbDeployment("plan", "plan-3", nil), rbDeployment("plan", "pinned", map[string]string{bootstrap.AnnotationSampling: "50"}), kept)
	for _, n := range []string{"plan-1", "plan-2", "plan-3", "pinned", "kept"} {
		e.waitComplete(ctx, "plan", n)
	}
	e.waitStatus(ctx, "the plan namespace counted and settled", func(mc *v1alpha2.MeshConfig) error {
		if mc.Status.Rebootstrap.Workloads < 5 {
			return fmt.Errorf("want at least the 5 workloads of namespace plan counted")
		}
		return rbSettled(mc)
	})
	mcBefore, err := e.meshConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}

	patch := `{"spec":{"observability":{"tracing":{"sampling":17}}}}`
	res := e.osm().ok("tracing", "plan", "-p", patch, "--osm-namespace", rbControlPlane, "--mesh-config-name", rbMeshConfig)
	t.Logf("osm tracing plan -p %s:\n%s", patch, res.stdout)
	cliContains(t, "osm tracing plan", res.stdout, "NAMESPACE", "VERDICT", "Rollouts would start in this order")
	res = e.osm().ok("tracing", "plan", "-p", patch, "--osm-namespace", rbControlPlane, "--mesh-config-name", rbMeshConfig, "-o", "json")
	var p rbPlanPreview
	if err := json.Unmarshal([]byte(res.stdout), &p); err != nil {
		t.Fatalf("osm tracing plan -o json: %v\n%s", err, res.stdout)
	}
	e.osm().fails([]string{"tracing", "plan", "-p", `{"spec":{"observability":{"tracing":{"sampling":"x"}}}}`,
		"--osm-namespace", rbControlPlane, "--mesh-config-name", rbMeshConfig}, "spec.observability.tracing.sampling")
	if mc, err := e.meshConfig(ctx); err != nil || mc.Generation != mcBefore.Generation || mc.ResourceVersion != mcBefore.ResourceVersion {
		t.Fatalf("osm tracing plan changed the MeshConfig (or it cannot be read: %v)", err)
	}

	verdicts := map[string]string{}
	for _, w := range p.Workloads {
		verdicts[w.Kind+"/"+w.Namespace+"/"+w.Name] = w.Verdict
	}
	for ref, want := range map[string]string{
		"Deployment/plan/plan-1": "roll", "Deployment/plan/plan-2": "roll", "Deployment/plan/plan-3": "roll",
		"Deployment/plan/pinned": "pinned", "Deployment/plan/kept": "opted-out",
	} {
		if verdicts[ref] != want {
			t.Errorf("plan: %s is %q, want %q", ref, verdicts[ref], want)
		}
	}
	// The injector runs in this process, not as a Deployment: the plan falls back to the
	// injector's default, which is the bound this cluster's controller runs with.
	if p.Concurrency.Max != e.max || !strings.Contains(p.Concurrency.Source, "default") {
		t.Errorf("plan: at most %d at once (%s), the controller runs with %d", p.Concurrency.Max, p.Concurrency.Source, e.max)
	}
	roll := map[string]string{}
	for _, w := range p.Workloads {
		if w.Verdict == "roll" {
			roll[w.Kind+"/"+w.Namespace+"/"+w.Name] = w.After
		}
	}
	base := map[string]int64{}
	for _, w := range p.Workloads {
		if w.Kind != bootstrap.KindDeployment {
			t.Fatalf("plan lists %s %s/%s: this step expects only Deployments to be injected", w.Kind, w.Namespace, w.Name)
		}
		base[w.Namespace+"/"+w.Name] = e.deployment(ctx, w.Namespace, w.Name).Generation
	}

	if _, _, err := e.c.Kubectl("patch", "meshconfig", rbMeshConfig, "-n", rbControlPlane, "-p", patch, "--type=merge"); err != nil {
		t.Fatalf("kubectl patch meshconfig: %v", err)
	}
	framework.Eventually(ctx, t, "the workloads the plan said roll stamped with the hash it predicted", func() error {
		for ref, hash := range roll {
			parts := strings.SplitN(ref, "/", 3)
			d := e.deployment(ctx, parts[1], parts[2])
			if got := d.Spec.Template.Annotations[bootstrap.BootstrapHashKey]; got != hash || d.Generation != base[parts[1]+"/"+parts[2]]+1 {
				return fmt.Errorf("%s: stamped %q at generation %d, want %s at %d", ref, got, d.Generation, hash, base[parts[1]+"/"+parts[2]]+1)
			}
		}
		mc, err := e.meshConfig(ctx)
		if err != nil {
			return err
		}
		return rbSettled(mc)
	})
	time.Sleep(2 * rebootstrap.DefaultSettleDelay)
	for _, w := range p.Workloads {
		ref := w.Kind + "/" + w.Namespace + "/" + w.Name
		d := e.deployment(ctx, w.Namespace, w.Name)
		want := base[w.Namespace+"/"+w.Name]
		if _, ok := roll[ref]; ok {
			want++
		}
		if d.Generation != want {
			t.Errorf("%s (plan: %s): generation %d, want %d", ref, w.Verdict, d.Generation, want)
		}
	}
	e.unlabel("plan")
}
