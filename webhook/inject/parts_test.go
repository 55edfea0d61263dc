package inject_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestMutateAddsExactlyItsParts: the injected pod is the input with Result.Added appended and
// nothing else, since the admission webhook's patch is built from Added alone.
func TestMutateAddsExactlyItsParts(t *testing.T) {
	for name, pod := range podsToInject(t) {
		t.Run(name, func(t *testing.T) {
			ns := inject.Namespace{Name: pod.Namespace, Labels: map[string]string{bootstrap.InjectionLabel: inject.InjectionEnabled}}
			res, err := inject.Mutate(pod, ns, goldenEnv(meshOn))
			if err != nil || res.Skipped {
				t.Fatalf("Mutate: %v (skipped: %s)", err, res.Reason)
			}
			want := pod.DeepCopy()
			want.Spec.InitContainers = append(slices.Clone(res.Added.InitContainers), want.Spec.InitContainers...)
			want.Spec.Volumes = append(want.Spec.Volumes, res.Added.Volumes...)
			if want.Labels == nil {
				want.Labels = map[string]string{}
			}
			maps.Copy(want.Labels, res.Added.Labels)
			if len(res.Added.Annotations) > 0 && want.Annotations == nil {
				want.Annotations = map[string]string{}
			}
			maps.Copy(want.Annotations, res.Added.Annotations)
			if diff := cmp.Diff(want, res.Pod); diff != "" {
				t.Errorf("the injected pod is not the input with Added added (-want +got):\n%s", diff)
			}
			if len(res.Added.InitContainers) == 0 || len(res.Added.Volumes) == 0 || len(res.Added.Labels) == 0 {
				t.Errorf("Added lacks a part: %+v", res.Added)
			}
		})
	}
}

// TestPartsLabelTheSettingsHash: the pod carries the hash of the settings its bootstrap was
// generated from, beside the bootstrap hash, so the re-bootstrap controller can tell a change
// of settings from a change of rendering.
func TestPartsLabelTheSettingsHash(t *testing.T) {
	s := bootstrap.Settings{Tracing: bootstrap.Defaults("osm-system"), ServiceName: "bookbuyer"}
	g, err := bootstrap.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	add := inject.Parts(&corev1.Pod{}, g, inject.DefaultProxyConfig(), inject.Traffic{})
	want := map[string]string{bootstrap.BootstrapHashKey: g.Hash, bootstrap.SettingsHashKey: bootstrap.SettingsHash(s)}
	if !maps.Equal(add.Labels, want) {
		t.Errorf("labels %v, want %v", add.Labels, want)
	}
	pod := inject.Inject(&corev1.Pod{}, g, inject.DefaultProxyConfig(), inject.Traffic{})
	if out := inject.Uninject(pod); out.Labels != nil {
		t.Errorf("Uninject left labels %v", out.Labels)
	}
}
