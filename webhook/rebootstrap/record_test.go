package rebootstrap

import (
	"encoding/json"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// whole fills what a real API server returns and the planner does not read.
func whole(m *metav1.ObjectMeta, tpl *corev1.PodTemplateSpec) {
	m.Labels = map[string]string{"team": "payments"}
	m.Annotations = map[string]string{lastApplied: `{"big":"copy"}`, "keep": "me"}
	m.Finalizers = []string{"example.com/hold"}
	m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	m.OwnerReferences = []metav1.OwnerReference{*ownerRef("example.com/v1", "App", "owner")}
	m.ResourceVersion = "42"
	tpl.Spec.Containers = []corev1.Container{{Name: "app", Image: "busybox", Env: []corev1.EnvVar{{Name: "A", Value: "1"}}}}
	tpl.Spec.Volumes = []corev1.Volume{{Name: "data"}}
}

// wholeWorkloads are a Deployment of each shape the planner tells apart, a partitioned
// StatefulSet and an OnDelete DaemonSet, each with what a real API server adds.
func wholeWorkloads() ([]appsv1.Deployment, appsv1.StatefulSet, appsv1.DaemonSet) {
	now := metav1.NewTime(time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)) // whole seconds, as the API serves it
	deps := []appsv1.Deployment{
		dep("app", "web", map[string]string{bootstrap.AnnotationAddress: "pod-collector"}),
		dep("app", "paused", nil, func(d *appsv1.Deployment) { d.Spec.Paused = true }),
		dep("app", "opted", nil),
		dep("app", "host", nil, func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }),
		dep("app", "failed", nil, func(d *appsv1.Deployment) {
			d.Generation, d.Status.ObservedGeneration = 2, 2
			d.Status.UpdatedReplicas = 0
			d.Status.Conditions = []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Message: "minimum replicas available"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: reasonProgressDeadlineExceeded, Message: "too slow"},
			}
		}),
		dep("app", "named", nil, func(d *appsv1.Deployment) { d.Spec.Template.GenerateName = "custom-" }),
		dep("app", "going", nil, func(d *appsv1.Deployment) { d.DeletionTimestamp = &now }),
	}
	for i := range deps {
		d := &deps[i]
		whole(&d.ObjectMeta, &d.Spec.Template)
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": d.Name}}
		d.Spec.Strategy = appsv1.DeploymentStrategy{RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(1))}}
	}
	deps[2].Annotations[bootstrap.AnnotationAutoRebootstrap] = "false"
	sts := appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "db", Generation: 3},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](3), Template: template(nil), ServiceName: "db",
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](1)},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
		},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: 1},
	}
	whole(&sts.ObjectMeta, &sts.Spec.Template)
	ds := appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "agent", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Template:       template(map[string]string{bootstrap.AnnotationAutoRebootstrap: "maybe"}),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 1, NumberAvailable: 2},
	}
	whole(&ds.ObjectMeta, &ds.Spec.Template)
	return deps, sts, ds
}

// TestRecordOf: a record carries exactly what the planner reads of a workload, each fact
// as the rule that reads the whole object gives it, and nothing of the bulk.
func TestRecordOf(t *testing.T) {
	deps, sts, ds := wholeWorkloads()
	type facts struct {
		Ref                   Ref
		Generation            int64
		Deleting              bool
		PodName               string
		Labels, Annotations   map[string]string
		HostNetwork, OptedOut bool
		OptOutReason, Blocked string
		Rollout               Rollout
	}
	check := func(obj any, kind string, m *metav1.ObjectMeta, tpl *corev1.PodTemplateSpec, r Rollout, blocked string) {
		t.Helper()
		rec, ok := RecordOf(obj)
		if !ok {
			t.Fatalf("no record of %s %s", kind, m.Name)
		}
		optOut, reason := optedOut(m.Annotations, tpl.Annotations)
		want := facts{
			Ref: Ref{Kind: kind, Namespace: m.Namespace, Name: m.Name}, Generation: m.Generation, Deleting: m.DeletionTimestamp != nil,
			PodName: inject.PodName(&tpl.ObjectMeta), Labels: tpl.Labels, Annotations: tpl.Annotations,
			HostNetwork: tpl.Spec.HostNetwork, OptedOut: optOut, OptOutReason: reason, Blocked: blocked, Rollout: r,
		}
		got := facts{
			Ref: rec.Ref(), Generation: rec.Generation, Deleting: rec.DeletionTimestamp != nil,
			PodName: rec.TemplatePodName, Labels: rec.TemplateLabels, Annotations: rec.TemplateAnnotations,
			HostNetwork: rec.HostNetwork, OptedOut: rec.OptedOut, OptOutReason: rec.OptOutReason, Blocked: rec.Blocked, Rollout: rec.Rollout,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s: record (-from the object +record):\n%s", kind, m.Name, diff)
		}
		if rec.UID != m.UID || rec.ResourceVersion != m.ResourceVersion || rec.ResourceVersion == "" {
			t.Errorf("%s %s: the record lost its UID or resource version: %+v", kind, m.Name, rec.ObjectMeta)
		}
		if rec.Labels != nil || rec.Annotations != nil || rec.Finalizers != nil || rec.ManagedFields != nil || rec.OwnerReferences != nil {
			t.Errorf("%s %s: the record keeps metadata the planner never reads: %+v", kind, m.Name, rec.ObjectMeta)
		}
		if gvk := rec.GetObjectKind().GroupVersionKind(); gvk != appsv1.SchemeGroupVersion.WithKind(kind) {
			t.Errorf("%s %s: record kind %s", kind, m.Name, gvk)
		}
	}
	for i := range deps {
		d := &deps[i]
		check(d, bootstrap.KindDeployment, &d.ObjectMeta, &d.Spec.Template, DeploymentRollout(d), DeploymentBlocked(d))
	}
	check(&sts, bootstrap.KindStatefulSet, &sts.ObjectMeta, &sts.Spec.Template, StatefulSetRollout(&sts), StatefulSetBlocked(&sts))
	check(&ds, bootstrap.KindDaemonSet, &ds.ObjectMeta, &ds.Spec.Template, DaemonSetRollout(&ds), DaemonSetBlocked(&ds))

	rec, _ := RecordOf(&deps[0])
	if again, ok := RecordOf(rec); !ok || again != rec {
		t.Errorf("RecordOf(record) = %p, %v; want the record itself", again, ok)
	}
	for _, other := range []any{&corev1.Pod{}, &appsv1.ReplicaSet{}, &metav1.PartialObjectMetadata{}, nil} {
		if r, ok := RecordOf(other); ok || r != nil {
			t.Errorf("RecordOf(%T) = %v, %v; want no record", other, r, ok)
		}
	}
}

// TestCollectFromRecords: the planner decides on records made from whole objects: each
// shape ends as the state its facts call for.
func TestCollectFromRecords(t *testing.T) {
	deps, sts, ds := wholeWorkloads()
	var recs []*WorkloadRecord
	for _, obj := range []any{&deps[0], &deps[1], &deps[2], &deps[3], &deps[4], &deps[5], &deps[6], &sts, &ds} {
		r, _ := RecordOf(obj)
		recs = append(recs, r)
	}
	ws, _ := Collect(&Snapshot{
		ControlPlaneNamespace: "osm-system",
		Namespaces:            []corev1.Namespace{namespace("app", true, nil)},
		Workloads:             recs,
	}, fakeHash)
	type row struct {
		Target, Blocked, OptOut string
		Phase                   Phase
		Message                 string
	}
	got := map[string]row{}
	for _, w := range ws {
		got[w.Ref.String()] = row{Target: w.Target, Blocked: w.Blocked, OptOut: w.OptOutReason, Phase: w.Rollout.Phase, Message: w.Rollout.Message}
	}
	want := map[string]row{
		"Deployment/app/web":    {Target: "Deployment/web@pod-collector", Message: "1 replicas updated and available"},
		"Deployment/app/paused": {Target: "Deployment/paused@mesh", Blocked: "the Deployment is paused", Message: "1 replicas updated and available"},
		"Deployment/app/opted": {
			Target: "Deployment/opted@mesh", OptOut: `opted out by workload annotation ` + bootstrap.AnnotationAutoRebootstrap + `: "false"`,
			Message: "1 replicas updated and available",
		},
		"Deployment/app/failed": {Target: "Deployment/failed@mesh", Phase: PhaseFailed, Message: "too slow"},
		"Deployment/app/named":  {Target: "Deployment/named@mesh", Message: "1 replicas updated and available"},
		"StatefulSet/app/db":    {Target: "StatefulSet/db@mesh", Phase: PhaseProgressing, Message: "1 of 2 replicas above partition 1 updated"},
		"DaemonSet/app/agent": {
			Target: "DaemonSet/agent@mesh", Blocked: "the DaemonSet's update strategy is OnDelete",
			OptOut: "treated as opted out: pod template annotation " + bootstrap.AnnotationAutoRebootstrap + `: "maybe" is neither "true" nor "false"`,
			Phase:  PhaseProgressing, Message: "1 of 2 pods updated",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads from records (-want +got; host-network and deleted ones are not followed):\n%s", diff)
	}
}

// TestTrim: the cache's transform turns workloads into their records and strips the managed
// fields and kubectl's last-applied copy from anything else, in place.
func TestTrim(t *testing.T) {
	deps, _, _ := wholeWorkloads()
	out, err := Trim(&deps[0])
	if err != nil {
		t.Fatal(err)
	}
	want, _ := RecordOf(&deps[0])
	if rec, ok := out.(*WorkloadRecord); !ok || !cmp.Equal(rec, want) {
		t.Errorf("Trim(Deployment) = %#v, want its record %#v", out, want)
	}
	// In watch-list mode client-go transforms objects twice: a record stays as it is.
	again, err := Trim(out)
	if err != nil || again != out || !cmp.Equal(again, want) {
		t.Errorf("Trim(record) = %#v, %v; want the record itself, unchanged", again, err)
	}

	pod := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: "app", Name: "web-1",
		Labels:        map[string]string{bootstrap.BootstrapHashKey: "h1"},
		Annotations:   map[string]string{lastApplied: "{}", "keep": "me"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}},
	}}
	out, err = Trim(pod)
	if err != nil || out != pod {
		t.Fatalf("Trim(pod) = %p, %v; want the pod itself", out, err)
	}
	if pod.ManagedFields != nil || len(pod.Annotations) != 1 || pod.Annotations["keep"] != "me" || pod.Labels[bootstrap.BootstrapHashKey] != "h1" {
		t.Errorf("trimmed pod metadata: %+v", pod.ObjectMeta)
	}
}

// TestRecordDeepCopy: a copy shares no map with its record.
func TestRecordDeepCopy(t *testing.T) {
	d := dep("app", "web", map[string]string{"a": "1"})
	rec, _ := RecordOf(&d)
	cp, ok := rec.DeepCopyObject().(*WorkloadRecord)
	if !ok || !cmp.Equal(cp, rec) {
		t.Fatalf("copy %#v differs from %#v", cp, rec)
	}
	cp.TemplateAnnotations["a"], cp.TemplateLabels["app"] = "2", "y"
	if rec.TemplateAnnotations["a"] != "1" || rec.TemplateLabels["app"] != "x" {
		t.Errorf("changing the copy changed the record: %+v", rec)
	}
}

// TestTrimMetaSharesStrings: two objects decoded apart hold their own copies of every
// string; once trimmed, their namespace, label and annotation keys and owner kinds are one
// copy, and their values and names are untouched.
func TestTrimMetaSharesStrings(t *testing.T) {
	decoded := func(name string) *metav1.PartialObjectMetadata {
		p := &metav1.PartialObjectMetadata{}
		data := `{"metadata":{"namespace":"shop","name":"` + name + `","labels":{"` + bootstrap.BootstrapHashKey + `":"h-` + name + `"},` +
			`"annotations":{"` + lastApplied + `":"{}","team":"a"},` +
			`"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u","controller":true}]}}`
		if err := json.Unmarshal([]byte(data), p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := decoded("a"), decoded("b")
	for _, p := range []*metav1.PartialObjectMetadata{a, b} {
		if out, err := TrimMeta(p); err != nil || out != p {
			t.Fatalf("TrimMeta = %v, %v; want the object itself", out, err)
		}
	}
	same := func(what, x, y string) {
		t.Helper()
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are not one copy", what, x, y)
		}
	}
	same("namespace", a.Namespace, b.Namespace)
	same("owner API version", a.OwnerReferences[0].APIVersion, b.OwnerReferences[0].APIVersion)
	same("owner kind", a.OwnerReferences[0].Kind, b.OwnerReferences[0].Kind)
	key := func(m map[string]string, want string) string {
		for k := range m {
			if k == want {
				return k
			}
		}
		t.Fatalf("no key %s in %v", want, m)
		return ""
	}
	same("label key", key(a.Labels, bootstrap.BootstrapHashKey), key(b.Labels, bootstrap.BootstrapHashKey))
	same("annotation key", key(a.Annotations, "team"), key(b.Annotations, "team"))
	if a.Labels[bootstrap.BootstrapHashKey] != "h-a" || b.Labels[bootstrap.BootstrapHashKey] != "h-b" || len(a.Annotations) != 1 {
		t.Errorf("trimmed metadata: %+v / %+v", a.ObjectMeta, b.ObjectMeta)
	}
}
