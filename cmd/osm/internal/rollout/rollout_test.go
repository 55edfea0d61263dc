package rollout

import (
	"bytes"
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// cluster is a fake cluster: namespace app labelled for injection and the MeshConfig, plus
// one Deployment per entry of pods, whose one pod carries the given labels (computed by the
// caller from the real core).
type cluster struct {
	t    *testing.T
	c    client.Client
	mesh *v1alpha2.TracingSpec
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	scheme, err := rebootstrap.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	mesh := &v1alpha2.TracingSpec{Enable: ptr.To(true), Address: "jaeger.tracing", Port: ptr.To[int32](9411)}
	mc := &v1alpha2.MeshConfig{
		ObjectMeta: metav1.ObjectMeta{Namespace: "osm-system", Name: "osm-mesh-config"},
		Spec:       v1alpha2.MeshConfigSpec{Observability: v1alpha2.ObservabilitySpec{Tracing: *mesh}},
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(mc, ns).Build()
	return &cluster{t: t, c: c, mesh: mesh}
}

// admitted returns the labels the webhook of this version gives a pod of Deployment name.
func (k *cluster) admitted(name string) map[string]string {
	k.t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: "app", GenerateName: name + "-1-", Labels: map[string]string{"app": name, "pod-template-hash": "1"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-1", Controller: ptr.To(true)}},
	}}
	res, err := inject.Mutate(pod, inject.Namespace{Name: "app", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}},
		inject.Env{ControlPlaneNamespace: "osm-system", Mesh: observability(k.mesh)})
	if err != nil || res.Skipped {
		k.t.Fatalf("not injected: %v %s", err, res.Reason)
	}
	return res.Pod.Labels
}

// deployment adds Deployment name, complete, with one pod labelled by edit(admitted labels).
func (k *cluster) deployment(name string, edit func(map[string]string), ann map[string]string) {
	k.t.Helper()
	ctx := context.Background()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, Annotations: ann},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}},
		},
	}
	labels := k.admitted(name)
	edit(labels)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: "app", Name: name + "-1-x", Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-1", Controller: ptr.To(true)}},
	}}
	for _, o := range []client.Object{d, pod} {
		if err := k.c.Create(ctx, o); err != nil {
			k.t.Fatal(err)
		}
	}
}

func (k *cluster) stamp(name string) string {
	k.t.Helper()
	d := &appsv1.Deployment{}
	if err := k.c.Get(context.Background(), client.ObjectKey{Namespace: "app", Name: name}, d); err != nil {
		k.t.Fatal(err)
	}
	return d.Spec.Template.Annotations[bootstrap.BootstrapHashKey]
}

func TestStampOutdatedStampsOnlyOutdatedWorkloads(t *testing.T) {
	k := newCluster(t)
	current := func(map[string]string) {}
	rerendered := func(l map[string]string) { l[bootstrap.BootstrapHashKey] = "0ld0ld0ld0" }
	older := func(l map[string]string) {
		l[bootstrap.BootstrapHashKey] = "0ld0ld0ld0"
		delete(l, bootstrap.SettingsHashKey)
	}
	changed := func(l map[string]string) {
		l[bootstrap.BootstrapHashKey] = "0ld0ld0ld0"
		l[bootstrap.SettingsHashKey] = "0therset00"
	}
	k.deployment("current", current, nil)
	k.deployment("rerendered", rerendered, nil)
	k.deployment("older", older, nil)
	k.deployment("changed", changed, nil)
	k.deployment("kept", rerendered, map[string]string{bootstrap.AnnotationAutoRebootstrap: "false"})

	f, err := Load(context.Background(), k.c, "osm-system", "osm-mesh-config", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := StampOutdated(context.Background(), k.c, f, "", &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("output:\n%s", out.String())
	if n != 2 {
		t.Errorf("stamped %d, want 2 (rerendered, older)", n)
	}
	for name, want := range map[string]bool{"current": false, "rerendered": true, "older": true, "changed": false, "kept": false} {
		if got := k.stamp(name) != ""; got != want {
			t.Errorf("%s stamped %t, want %t", name, got, want)
		}
	}
	if !strings.Contains(out.String(), "not rolled Deployment/app/kept") {
		t.Errorf("the opted-out outdated workload is not reported:\n%s", out.String())
	}
}

// observability wraps a tracing spec as the MeshConfig's spec.observability (nil stays nil).
func observability(t *v1alpha2.TracingSpec) *v1alpha2.ObservabilitySpec {
	if t == nil {
		return nil
	}
	return &v1alpha2.ObservabilitySpec{Tracing: *t}
}
