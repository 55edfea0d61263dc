package rebootstrap

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// fixture is a fake cluster: namespace app with Deployments a, b and c, one pod each on
// hash "old" generated from other settings than the MeshConfig's, and the MeshConfig. The fake API server neither bumps generations nor runs
// rollouts: the test plays the Deployment controller with setRollout.
type fixture struct {
	t   *testing.T
	c   client.Client
	rec *events.FakeRecorder
	key types.NamespacedName
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	mc := &v1alpha2.MeshConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: "osm-mesh-config", Generation: 1},
		Spec:       v1alpha2.MeshConfigSpec{Observability: *meshSpec(true, "jaeger.tracing", 9411)},
	}
	objs := []client.Object{mc, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "app", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"},
	}}}
	for _, name := range []string{"a", "b", "c"} {
		d := dep("app", name, nil)
		d.Spec.Template.Labels = map[string]string{"app": name}
		objs = append(objs, &d, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Namespace: "app", Name: name + "-1-x",
			Labels: map[string]string{
				bootstrap.BootstrapHashKey: "old", bootstrap.SettingsHashKey: "old-settings",
				"pod-template-hash": "1", "app": name,
			},
			OwnerReferences: []metav1.OwnerReference{*ownerRef("apps/v1", "ReplicaSet", name+"-1")},
		}})
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&v1alpha2.MeshConfig{}, &appsv1.Deployment{}).Build()
	return &fixture{t: t, c: c, rec: events.NewFakeRecorder(100), key: client.ObjectKeyFromObject(mc)}
}

func (f *fixture) reconciler() *Reconciler {
	return &Reconciler{
		Reader: f.c, Client: f.c, Recorder: f.rec, Key: f.key, Log: logr.Discard(),
		Options: Options{Namespace: "osm-system", MeshConfigName: "osm-mesh-config", MaxConcurrent: 2,
			Defaults: bootstrap.Defaults("osm-system")},
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) },
	}
}

func (f *fixture) reconcile(r *Reconciler) reconcile.Result {
	f.t.Helper()
	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: f.key})
	if err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (f *fixture) deployment(name string) *appsv1.Deployment {
	f.t.Helper()
	d := &appsv1.Deployment{}
	if err := f.c.Get(context.Background(), types.NamespacedName{Namespace: "app", Name: name}, d); err != nil {
		f.t.Fatal(err)
	}
	return d
}

// setRollout plays the Deployment controller: generation gen, rollout in the given phase,
// pods on hash when complete.
func (f *fixture) setRollout(name string, gen int64, phase Phase, hash string) {
	f.t.Helper()
	ctx := context.Background()
	d := f.deployment(name)
	d.Generation = gen
	if err := f.c.Update(ctx, d); err != nil {
		f.t.Fatal(err)
	}
	d = f.deployment(name)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: gen, Replicas: 2, UpdatedReplicas: 1}
	switch phase {
	case PhaseComplete:
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: gen, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	case PhaseFailed:
		d.Status.Conditions = []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
			Message: "ReplicaSet has timed out progressing.",
		}}
	}
	if err := f.c.Status().Update(ctx, d); err != nil {
		f.t.Fatal(err)
	}
	if hash != "" {
		pod := &corev1.Pod{}
		if err := f.c.Get(ctx, types.NamespacedName{Namespace: "app", Name: name + "-1-x"}, pod); err != nil {
			f.t.Fatal(err)
		}
		pod.Labels[bootstrap.BootstrapHashKey] = hash
		if err := f.c.Update(ctx, pod); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) status() *v1alpha2.MeshConfig {
	f.t.Helper()
	mc := &v1alpha2.MeshConfig{}
	if err := f.c.Get(context.Background(), f.key, mc); err != nil {
		f.t.Fatal(err)
	}
	if mc.Status.Rebootstrap == nil {
		f.t.Fatalf("no re-bootstrap status")
	}
	return mc
}

func (f *fixture) events() string {
	var out []string
	for {
		select {
		case e := <-f.rec.Events:
			out = append(out, e)
		default:
			return strings.Join(out, "\n")
		}
	}
}

func stampOf(d *appsv1.Deployment) string {
	return d.Spec.Template.Annotations[bootstrap.BootstrapHashKey]
}

func TestReconcileRollsBoundedAndPausesOnFailure(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler()

	// 1: a and b are stamped (two slots), c waits.
	res := f.reconcile(r)
	a, b, c := f.deployment("a"), f.deployment("b"), f.deployment("c")
	if stampOf(a) == "" || stampOf(a) == "old" || stampOf(b) == "" || stampOf(c) != "" {
		t.Fatalf("stamps a=%q b=%q c=%q, want a and b stamped", stampOf(a), stampOf(b), stampOf(c))
	}
	if res.RequeueAfter != resyncWhileRolling {
		t.Errorf("requeue after %s while rolling", res.RequeueAfter)
	}
	mc := f.status()
	if rb := mc.Status.Rebootstrap; rb.Rolling != 2 || rb.Pending != 1 || rb.Workloads != 3 || mc.Status.ObservedGeneration != 1 {
		t.Errorf("status %+v", rb)
	}
	if p := meta.FindStatusCondition(mc.Status.Conditions, ConditionProgressing); p == nil || p.Reason != ReasonRollingOut {
		t.Errorf("Progressing %+v", p)
	}
	ev := f.events()
	for _, want := range []string{"Normal Rebootstrap stamped the pod template", EventTargetChanged} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
	if n := strings.Count(ev, "Normal Rebootstrap stamped"); n != 2 {
		t.Errorf("%d stamp events, want 2:\n%s", n, ev)
	}

	// 2: the Deployment controller (played here) starts rolling a and b: c still waits.
	f.setRollout("a", 2, PhaseProgressing, "")
	f.setRollout("b", 2, PhaseProgressing, "")
	f.reconcile(r)
	if stampOf(f.deployment("c")) != "" {
		t.Fatalf("c stamped while two roll")
	}

	// 3: a completes; c gets its slot.
	f.setRollout("a", 2, PhaseComplete, stampOf(a))
	f.reconcile(r)
	if stampOf(f.deployment("c")) == "" {
		t.Fatalf("c not stamped once a completed")
	}
	f.setRollout("c", 2, PhaseProgressing, "")

	// 4: b fails: Degraded, paused, events.
	f.setRollout("b", 2, PhaseFailed, "")
	f.reconcile(r)
	mc = f.status()
	d := meta.FindStatusCondition(mc.Status.Conditions, ConditionDegraded)
	if d == nil || d.Status != metav1.ConditionTrue || d.Reason != ReasonRolloutFailed || !strings.Contains(d.Message, "Deployment/app/b") {
		t.Errorf("Degraded %+v", d)
	}
	if rb := mc.Status.Rebootstrap; rb.Failed != 1 || rb.Rolling != 1 || rb.Updated != 1 {
		t.Errorf("status %+v", rb)
	}
	ev = f.events()
	for _, want := range []string{"Warning RebootstrapFailed rollout to bootstrap", "Warning RolloutPaused the rollout of Deployment/app/b failed"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}

	// 5: a restarted controller (a new Reconciler, nothing in memory) stamps nothing again
	// and does not announce the target again.
	before := []string{stampOf(f.deployment("a")), stampOf(f.deployment("b")), stampOf(f.deployment("c"))}
	f.reconcile(f.reconciler())
	after := []string{stampOf(f.deployment("a")), stampOf(f.deployment("b")), stampOf(f.deployment("c"))}
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("stamps changed across a restart: %v -> %v", before, after)
	}
	if ev := f.events(); strings.Contains(ev, EventTargetChanged) || strings.Contains(ev, EventPaused) {
		t.Errorf("a restart repeats MeshConfig events:\n%s", ev)
	}

	// 6: b recovers, c completes: resumed and complete.
	f.setRollout("b", 3, PhaseComplete, stampOf(b))
	f.setRollout("c", 2, PhaseComplete, stampOf(f.deployment("c")))
	if res := f.reconcile(r); res.RequeueAfter != 0 {
		t.Errorf("requeue after %s with nothing to do", res.RequeueAfter)
	}
	mc = f.status()
	if p := meta.FindStatusCondition(mc.Status.Conditions, ConditionProgressing); p == nil || p.Reason != ReasonRolloutComplete {
		t.Errorf("Progressing %+v", p)
	}
	ev = f.events()
	for _, want := range []string{"Normal RolloutResumed", "Normal RebootstrapComplete"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
}

func TestReconcileInvalidMeshConfigRollsNothing(t *testing.T) {
	f := newFixture(t)
	mc := &v1alpha2.MeshConfig{}
	if err := f.c.Get(context.Background(), f.key, mc); err != nil {
		t.Fatal(err)
	}
	mc.Spec.Observability.Tracing.Port = ptr.To[int32](0)
	if err := f.c.Update(context.Background(), mc); err != nil {
		t.Fatal(err)
	}
	f.reconcile(f.reconciler())
	for _, n := range []string{"a", "b", "c"} {
		if s := stampOf(f.deployment(n)); s != "" {
			t.Errorf("%s stamped under an invalid MeshConfig", n)
		}
	}
	got := &v1alpha2.MeshConfig{}
	if err := f.c.Get(context.Background(), f.key, got); err != nil {
		t.Fatal(err)
	}
	d := meta.FindStatusCondition(got.Status.Conditions, ConditionDegraded)
	if d == nil || d.Reason != ReasonInvalidMeshConfig || !strings.Contains(d.Message, "port") {
		t.Errorf("Degraded %+v", d)
	}
	if ev := f.events(); !strings.Contains(ev, "Warning InvalidMeshConfig") {
		t.Errorf("events:\n%s", ev)
	}
}

func TestReconcileWithoutMeshConfigDoesNothing(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler()
	r.Key.Name = "absent"
	f.reconcile(r)
	if s := stampOf(f.deployment("a")); s != "" {
		t.Errorf("stamped without a MeshConfig")
	}
}

func TestReconcileHoldsWhileSettling(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler()
	r.Options.SettleDelay = time.Second
	if res := f.reconcile(r); res.RequeueAfter != time.Second {
		t.Errorf("requeue after %s, want the settle delay", res.RequeueAfter)
	}
	if s := stampOf(f.deployment("a")); s != "" {
		t.Errorf("stamped while settling")
	}
	if p := meta.FindStatusCondition(f.status().Status.Conditions, ConditionProgressing); p == nil ||
		!strings.Contains(p.Message, "rollouts start once they are unchanged for 1s") {
		t.Errorf("Progressing %+v", p)
	}
	r.Now = func() time.Time { return time.Unix(1_800_000_001, 0) }
	f.reconcile(r)
	if s := stampOf(f.deployment("a")); s == "" {
		t.Errorf("not stamped once settled")
	}
}

// TestReconcileRollsOutdatedOnlyWhenAsked: pods on another bootstrap without the settings
// label (admitted by an older injector) are outdated: counted, not stamped, until the
// MeshConfig sets spec.rebootstrap.onUpgrade.
func TestReconcileRollsOutdatedOnlyWhenAsked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		pod := &corev1.Pod{}
		if err := f.c.Get(ctx, types.NamespacedName{Namespace: "app", Name: name + "-1-x"}, pod); err != nil {
			t.Fatal(err)
		}
		delete(pod.Labels, bootstrap.SettingsHashKey)
		if err := f.c.Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	r := f.reconciler()
	f.reconcile(r)
	rb := f.status().Status.Rebootstrap
	if rb.Outdated != 3 || rb.Pending != 0 || len(rb.OutdatedWorkloads) != 3 || stampOf(f.deployment("a")) != "" {
		t.Fatalf("status %+v, stamp %q: want 3 outdated, none stamped", rb, stampOf(f.deployment("a")))
	}
	if ev := f.events(); !strings.Contains(ev, EventOutdated) {
		t.Errorf("events %q lack %s", ev, EventOutdated)
	}
	mc := f.status()
	mc.Spec.Rebootstrap.OnUpgrade = true
	if err := f.c.Update(ctx, mc); err != nil {
		t.Fatal(err)
	}
	f.reconcile(r)
	stamped := 0
	for _, name := range []string{"a", "b", "c"} {
		if stampOf(f.deployment(name)) != "" {
			stamped++
		}
	}
	if stamped != 2 {
		t.Errorf("%d outdated workloads stamped with onUpgrade, want 2 (the bound)", stamped)
	}
}

// TestReconcileSweepsOldSettings: after a MeshConfig change the memo holds the hashes of the
// old and the new settings of every workload; sweeps every hashSweepEvery drop the old ones
// and keep those the passes still ask for.
func TestReconcileSweepsOldSettings(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler()
	memo := bootstrap.NewCache(0)
	r.hasher.Bootstraps = memo
	at := time.Unix(1_800_000_000, 0)
	r.Now = func() time.Time { return at }
	f.reconcile(r)
	if memo.Hashed() != 3 {
		t.Fatalf("after the first pass the memo holds %d hashes, want the 3 workloads'", memo.Hashed())
	}
	mc := f.status()
	mc.Spec.Observability.Tracing.Sampling = ptr.To(50.0)
	if err := f.c.Update(context.Background(), mc); err != nil {
		t.Fatal(err)
	}
	f.reconcile(r)
	if memo.Hashed() != 6 {
		t.Fatalf("after the change the memo holds %d hashes, want 6 (old and new settings)", memo.Hashed())
	}
	for _, step := range []time.Duration{hashSweepEvery / 2, hashSweepEvery, hashSweepEvery} {
		at = at.Add(step)
		f.reconcile(r)
	}
	if memo.Hashed() != 3 {
		t.Errorf("after two sweeps the memo holds %d hashes, want the 3 workloads' current ones", memo.Hashed())
	}
}
