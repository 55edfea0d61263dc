package rollout

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

func meshConfig() *v1alpha2.MeshConfig {
	return &v1alpha2.MeshConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: "osm-mesh-config"},
		Spec: v1alpha2.MeshConfigSpec{Observability: v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{
			Enable: ptr.To(true), Address: "jaeger.tracing", Port: ptr.To[int32](9411),
		}}},
	}
}

func TestMergePatchEdit(t *testing.T) {
	for name, tc := range map[string]struct {
		patch string
		want  []string // substrings of the error; none: success
	}{
		"good":            {patch: `{"spec":{"observability":{"tracing":{"sampling":40,"address":"jaeger.osm-system"}}}}`},
		"yaml":            {patch: "spec: {rebootstrap: {onUpgrade: true}}"},
		"bad json":        {patch: `{"spec":`, want: []string{"-p: not a JSON merge patch"}},
		"not an object":   {patch: `[1]`, want: []string{"-p: not a JSON merge patch", "JSON object"}},
		"unknown field":   {patch: `{"spec":{"observability":{"tracing":{"sampl":40}}}}`, want: []string{"-p:", `unknown field "sampl"`}},
		"wrong type":      {patch: `{"spec":{"observability":{"tracing":{"sampling":"lots"}}}}`, want: []string{"-p:", "spec.observability.tracing.sampling"}},
		"bad field value": {patch: `{"spec":{"observability":{"tracing":{"port":0}}}}`, want: []string{"-p:", "spec.observability.tracing.port", `"0"`}},
		"bad sampling":    {patch: `{"spec":{"observability":{"tracing":{"sampling":101}}}}`, want: []string{"spec.observability.tracing.sampling", "101"}},
	} {
		t.Run(name, func(t *testing.T) {
			mc := meshConfig()
			err := MergePatchEdit("-p", []byte(tc.patch))(mc)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; MeshConfig now %+v", mc.Spec)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !equalSpec(mc, meshConfig()) {
				t.Errorf("a refused patch changed the MeshConfig: %+v", mc.Spec)
			}
		})
	}
	mc := meshConfig()
	if err := MergePatchEdit("-p", []byte(`{"spec":{"observability":{"tracing":{"sampling":40,"port":null}}}}`))(mc); err != nil {
		t.Fatal(err)
	}
	tr := mc.Spec.Observability.Tracing
	if tr.Sampling == nil || *tr.Sampling != 40 || tr.Port != nil || tr.Address != "jaeger.tracing" || mc.Name != "osm-mesh-config" {
		t.Errorf("merge patch not applied as RFC 7386 says: %+v", tr)
	}
}

func equalSpec(a, b *v1alpha2.MeshConfig) bool {
	return a.Spec.Observability.Tracing.Address == b.Spec.Observability.Tracing.Address &&
		a.Spec.Observability.Tracing.Sampling == nil && b.Spec.Observability.Tracing.Sampling == nil &&
		*a.Spec.Observability.Tracing.Port == *b.Spec.Observability.Tracing.Port
}

func TestSpecFileEdit(t *testing.T) {
	good := "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata: {name: x}\n" +
		"spec: {observability: {tracing: {enable: true, address: jaeger.osm-system, sampling: 10}}}\n"
	mc := meshConfig()
	if err := SpecFileEdit("m.yaml", []byte(good))(mc); err != nil {
		t.Fatal(err)
	}
	if tr := mc.Spec.Observability.Tracing; tr.Address != "jaeger.osm-system" || tr.Port != nil || mc.Name != "osm-mesh-config" {
		t.Errorf("the spec was not replaced, or the metadata was: %s %+v", mc.Name, tr)
	}
	for name, tc := range map[string]struct{ data, want string }{
		"unknown field": {strings.Replace(good, "sampling", "sampl", 1), `-f m.yaml: not a valid MeshConfig: error unmarshaling JSON: while decoding JSON: json: unknown field "sampl"`},
		"wrong kind":    {strings.Replace(good, "kind: MeshConfig", "kind: ConfigMap", 1), `-f m.yaml: not a MeshConfig: its kind is "ConfigMap"`},
		"bad value":     {strings.Replace(good, "sampling: 10", "port: 70000", 1), "-f m.yaml: MeshConfig spec.observability.tracing.port"},
	} {
		t.Run(name, func(t *testing.T) {
			err := SpecFileEdit("m.yaml", []byte(tc.data))(meshConfig())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// previewCluster: namespace app with Deployments plain (rolls), pinned (pins the address),
// kept (opted out), paused (blocked), bad (malformed annotation), outdated (its pod runs
// the target's settings rendered by another version) and a bare pod, plus the injector's
// Deployment with --max-concurrent-rollouts=3.
func previewCluster(t *testing.T) *cluster {
	t.Helper()
	k := newCluster(t)
	current := func(map[string]string) {}
	k.deployment("plain", current, nil)
	k.deployment("plain-2", current, nil)
	k.deployment("kept", current, map[string]string{bootstrap.AnnotationAutoRebootstrap: "false"})
	k.deployment("outdated", func(l map[string]string) { l[bootstrap.BootstrapHashKey] = "0ld0ld0ld0" }, nil)
	ctx := context.Background()
	edit := func(name string, f func(*appsv1.Deployment)) {
		d := &appsv1.Deployment{}
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: "app", Name: name}, d); err != nil {
			t.Fatal(err)
		}
		f(d)
		if err := k.c.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	k.deployment("pinned", current, nil)
	edit("pinned", func(d *appsv1.Deployment) {
		d.Spec.Template.Annotations = map[string]string{bootstrap.AnnotationAddress: "jaeger.tracing"}
	})
	k.deployment("paused", current, nil)
	edit("paused", func(d *appsv1.Deployment) { d.Spec.Paused = true })
	k.deployment("bad", current, nil)
	edit("bad", func(d *appsv1.Deployment) {
		d.Spec.Template.Annotations = map[string]string{bootstrap.AnnotationPort: "nope"}
	})
	labels := k.admitted("lonely")
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "lonely", Labels: labels}}
	injector := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: InjectorDeployment},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "osm-injector", Args: []string{"--osm-namespace=osm-system", "--max-concurrent-rollouts=3"},
		}}}}},
	}
	for _, o := range []client.Object{bare, injector} {
		if err := k.c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// readOnly wraps c so that any write fails the test.
func readOnly(t *testing.T, c client.WithWatch) client.Client {
	write := func(what string) error {
		t.Errorf("the preview wrote to the cluster: %s", what)
		return errors.New("read-only")
	}
	return interceptor.NewClient(c, interceptor.Funcs{
		Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
			return write("create")
		},
		Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error {
			return write("update")
		},
		Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return write("patch")
		},
		Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
			return write("delete")
		},
		SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			return write("status update")
		},
		SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch, ...client.SubResourcePatchOption) error {
			return write("status patch")
		},
	})
}

func TestPreviewChange(t *testing.T) {
	k := previewCluster(t)
	ctx := context.Background()
	before := map[string]appsv1.Deployment{}
	deps := &appsv1.DeploymentList{}
	if err := k.c.List(ctx, deps); err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		before[d.Name] = d
	}
	ro := readOnly(t, k.c.(client.WithWatch))
	p, err := PreviewChange(ctx, ro, "osm-system", "osm-mesh-config",
		MergePatchEdit("-p", []byte(`{"spec":{"observability":{"tracing":{"address":"jaeger.osm-system"}}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := PrintPreview(&text, p); err != nil {
		t.Fatal(err)
	}
	t.Logf("preview:\n%s", text.String())
	got := map[string]Verdict{}
	var names []string
	for _, r := range p.Workloads {
		got[r.Name] = r.Verdict
		names = append(names, r.Name)
	}
	want := map[string]Verdict{
		"bad": VerdictFailingTarget, "kept": VerdictOptedOut, "outdated": VerdictRoll, "paused": VerdictBlocked,
		"pinned": VerdictPinned, "plain": VerdictRoll, "plain-2": VerdictRoll,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: verdict %q, want %q", name, got[name], v)
		}
	}
	if !slices.IsSorted(names) || len(names) != len(want) {
		t.Errorf("workloads %v: want the %d injected ones, sorted", names, len(want))
	}
	if wantOrder := []string{"Deployment/app/outdated", "Deployment/app/plain", "Deployment/app/plain-2"}; !slices.Equal(p.Order, wantOrder) || p.FirstBatch != 3 {
		t.Errorf("order %v, first batch %d; want %v, 3", p.Order, p.FirstBatch, wantOrder)
	}
	if p.Concurrency.Max != 3 || !strings.Contains(p.Concurrency.Source, "--max-concurrent-rollouts=3 in Deployment osm-system/osm-injector") {
		t.Errorf("concurrency %+v", p.Concurrency)
	}
	if len(p.BarePods) != 1 || p.BarePods[0].Name != "lonely" || p.BarePods[0].Verdict != "stale" {
		t.Errorf("bare pods %+v, want lonely stale", p.BarePods)
	}
	if p.TargetBefore == p.TargetAfter || p.TargetBefore == "" {
		t.Errorf("targets %q -> %q", p.TargetBefore, p.TargetAfter)
	}
	// Nothing was written: the interceptor reports writes, and the objects are as they were.
	if err := k.c.List(ctx, deps); err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		if d.ResourceVersion != before[d.Name].ResourceVersion {
			t.Errorf("Deployment %s changed: resourceVersion %s -> %s", d.Name, before[d.Name].ResourceVersion, d.ResourceVersion)
		}
	}
	mc := &v1alpha2.MeshConfig{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: "osm-system", Name: "osm-mesh-config"}, mc); err != nil {
		t.Fatal(err)
	}
	if mc.Spec.Observability.Tracing.Address != "jaeger.tracing" {
		t.Errorf("the MeshConfig was changed: %+v", mc.Spec.Observability.Tracing)
	}
}

func TestPreviewChangeUnchangedAndOnUpgrade(t *testing.T) {
	k := previewCluster(t)
	// The same address: nothing moves; the outdated workload stays outdated.
	p, err := PreviewChange(context.Background(), k.c, "osm-system", "osm-mesh-config",
		MergePatchEdit("-p", []byte(`{"spec":{"observability":{"tracing":{"address":"jaeger.tracing"}}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Workloads {
		if r.Name == "plain" && r.Verdict != VerdictUnchanged || r.Name == "pinned" && r.Verdict != VerdictUnchanged ||
			r.Name == "outdated" && r.Verdict != VerdictOutdated {
			t.Errorf("%s: %s (%s)", r.Name, r.Verdict, r.Reason)
		}
	}
	if len(p.Order) != 0 {
		t.Errorf("order %v, want nothing", p.Order)
	}
	// onUpgrade: the outdated workload rolls, already due without the change.
	p, err = PreviewChange(context.Background(), k.c, "osm-system", "osm-mesh-config",
		MergePatchEdit("-p", []byte(`{"spec":{"rebootstrap":{"onUpgrade":true}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Order, []string{"Deployment/app/outdated"}) || !p.RollOutdated {
		t.Errorf("order %v, roll outdated %t", p.Order, p.RollOutdated)
	}
}

func TestPreviewChangeRefusesABadPatchBeforeReading(t *testing.T) {
	k := newCluster(t)
	_, err := PreviewChange(context.Background(), k.c, "osm-system", "osm-mesh-config",
		MergePatchEdit("-p", []byte(`{"spec":{"observability":{"tracing":{"protocol":"carrier-pigeon"}}}}`)))
	if err == nil || !strings.Contains(err.Error(), "spec.observability.tracing.protocol") {
		t.Errorf("error %v, want one naming spec.observability.tracing.protocol", err)
	}
	_, err = PreviewChange(context.Background(), k.c, "osm-system", "nope", MergePatchEdit("-p", []byte(`{}`)))
	if err == nil || !strings.Contains(err.Error(), "MeshConfig osm-system/nope") {
		t.Errorf("error %v, want one naming the missing MeshConfig", err)
	}
}

func TestReadConcurrency(t *testing.T) {
	for name, tc := range map[string]struct {
		args    []string
		max     int
		source  string
		wantErr string
	}{
		"equals":    {args: []string{"--max-concurrent-rollouts=7"}, max: 7, source: "--max-concurrent-rollouts=7 in Deployment osm-system/osm-injector"},
		"separate":  {args: []string{"--max-concurrent-rollouts", "4"}, max: 4},
		"absent":    {args: []string{"--leader-elect"}, max: 2, source: "the injector's default (Deployment osm-system/osm-injector sets no --max-concurrent-rollouts)"},
		"malformed": {args: []string{"--max-concurrent-rollouts=lots"}, wantErr: `--max-concurrent-rollouts="lots" is not a whole number of at least 1`},
	} {
		t.Run(name, func(t *testing.T) {
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: InjectorDeployment},
				Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "osm-injector", Args: tc.args}},
				}}},
			}
			c := fake.NewClientBuilder().WithObjects(d).Build()
			got, err := ReadConcurrency(context.Background(), c, "osm-system")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Max != tc.max || (tc.source != "" && got.Source != tc.source) {
				t.Errorf("got %+v, %v; want %d from %q", got, err, tc.max, tc.source)
			}
		})
	}
	got, err := ReadConcurrency(context.Background(), fake.NewClientBuilder().Build(), "osm-system")
	if err != nil || got.Max != 2 || got.Source != "the injector's default (no Deployment osm-system/osm-injector)" {
		t.Errorf("without the injector: %+v, %v", got, err)
	}
}

func TestPrintPreview(t *testing.T) {
	p := &Preview{
		MeshConfig: "osm-system/osm-mesh-config", TargetBefore: "aaaa", TargetAfter: "bbbb",
		Workloads: []Row{
			{Namespace: "app", Kind: "Deployment", Name: "a", Verdict: VerdictRoll, Reason: "moves"},
			{Namespace: "app", Kind: "StatefulSet", Name: "long-name", Verdict: VerdictPinned, Reason: "pinned"},
		},
		Order: []string{"Deployment/app/a"}, FirstBatch: 1,
		Concurrency: Concurrency{Max: 2, Source: "the injector's default"},
		BarePods:    []Row{{Namespace: "app", Kind: "Pod", Name: "p", Verdict: "stale", Reason: "old"}},
	}
	var out bytes.Buffer
	if err := PrintPreview(&out, p); err != nil {
		t.Fatal(err)
	}
	want := `MeshConfig osm-system/osm-mesh-config: tracing target aaaa -> bbbb

NAMESPACE  KIND         NAME       VERDICT  REASON
app        Deployment   a          roll     moves
app        StatefulSet  long-name  pinned   pinned

At most 2 rollouts at once (the injector's default).
Rollouts would start in this order (the first 1 at once, then one as each completes):
  1. Deployment/app/a

Bare pods (no Deployment, StatefulSet or DaemonSet owns them; never restarted):
NAMESPACE  NAME  STATE  REASON
app        p     stale  old
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := PrintPreviewJSON(&out, p); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"verdict": "roll"`, `"order": [`, `"max": 2`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("JSON lacks %s:\n%s", w, out.String())
		}
	}
}

func TestVerdictOfAnUninjectedWorkload(t *testing.T) {
	d := &rebootstrap.Decision{State: rebootstrap.StateUninjected, Target: "t", Reason: "2 of its pods run without the sidecar"}
	if v, reason := verdict(d, "t", true); v != VerdictUninjected || reason != d.Reason {
		t.Errorf("verdict = %s %q, want %s with the planner's reason", v, reason, VerdictUninjected)
	}
}
