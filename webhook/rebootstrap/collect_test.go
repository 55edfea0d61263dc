package rebootstrap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// fakeHash names the input: owner and the address annotation, or fails on "bad".
func fakeHash(in bootstrap.Input) (hash, settings string, err error) {
	if in.PodAnnotations[bootstrap.AnnotationAddress] == "bad" {
		return "", "", errors.New("address: bad")
	}
	addr := in.PodAnnotations[bootstrap.AnnotationAddress]
	if addr == "" {
		addr = in.NamespaceAnnotations[bootstrap.AnnotationAddress]
	}
	if addr == "" {
		addr = "mesh"
	}
	owner := in.Owner.String()
	if owner == "" {
		owner = "pod:" + in.PodName
	}
	return owner + "@" + addr, "settings:" + addr, nil
}

func namespace(name string, labelled bool, ann map[string]string) corev1.Namespace {
	ns := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}}
	if labelled {
		ns.Labels = map[string]string{bootstrap.InjectionLabel: "enabled"}
	}
	return ns
}

func template(ann map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Annotations: ann, Labels: map[string]string{"app": "x"}}}
}

func dep(ns, name string, tplAnn map[string]string, edit ...func(*appsv1.Deployment)) appsv1.Deployment {
	d := appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-d-" + ns + "-" + name), Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Template: template(tplAnn)},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1},
	}
	for _, e := range edit {
		e(&d)
	}
	return d
}

func podMeta(ns, name, hash string, owner *metav1.OwnerReference, labels map[string]string) metav1.PartialObjectMetadata {
	p := metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, UID: types.UID("uid-p-" + name),
		Labels: map[string]string{},
	}}
	if hash != "" { // "": a pod without the sidecar
		p.Labels[bootstrap.BootstrapHashKey] = hash
	}
	for k, v := range labels {
		p.Labels[k] = v
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func ownerRef(apiVersion, kind, name string) *metav1.OwnerReference {
	return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, Controller: ptr.To(true)}
}

func TestCollect(t *testing.T) {
	now := metav1.Now()
	snap := &Snapshot{
		ControlPlaneNamespace: "osm-system",
		Namespaces: []corev1.Namespace{
			namespace("app", true, nil),
			namespace("pinned", true, map[string]string{bootstrap.AnnotationAddress: "ns-collector"}),
			namespace("plain", false, nil),
			namespace("kube-system", true, nil),
			namespace("osm-system", true, nil),
		},
		Workloads: slices.Concat(recordsOf([]appsv1.Deployment{
			dep("app", "web", nil),
			dep("app", "pinned-pod", map[string]string{bootstrap.AnnotationAddress: "pod-collector", bootstrap.BootstrapHashKey: "h0"}),
			dep("pinned", "api", nil),
			dep("app", "no-inject", map[string]string{bootstrap.InjectionAnnotation: "disabled"}),
			dep("app", "no-inject-upper", map[string]string{bootstrap.InjectionAnnotation: "No"}),
			dep("app", "typo-inject", map[string]string{bootstrap.InjectionAnnotation: "maybe"}),
			dep("app", "host", nil, func(d *appsv1.Deployment) { d.Spec.Template.Spec.HostNetwork = true }),
			dep("app", "going", nil, func(d *appsv1.Deployment) { d.DeletionTimestamp = &now }),
			dep("app", "opted", nil, func(d *appsv1.Deployment) {
				d.Annotations = map[string]string{bootstrap.AnnotationAutoRebootstrap: "false"}
			}),
			dep("app", "opted-tpl", map[string]string{bootstrap.AnnotationAutoRebootstrap: "FALSE"}),
			dep("app", "opt-typo", nil, func(d *appsv1.Deployment) {
				d.Annotations = map[string]string{bootstrap.AnnotationAutoRebootstrap: "nope"}
			}),
			dep("app", "opt-in", nil, func(d *appsv1.Deployment) {
				d.Annotations = map[string]string{bootstrap.AnnotationAutoRebootstrap: "true"}
			}),
			dep("app", "bad", map[string]string{bootstrap.AnnotationAddress: "bad"}),
			dep("app", "paused", nil, func(d *appsv1.Deployment) { d.Spec.Paused = true }),
			dep("app", "rolling", nil, func(d *appsv1.Deployment) { d.Generation = 2 }),
			dep("app", "healed", map[string]string{HealAnnotation: "generation=3,at=2026-12-04T18:00:00Z"}),
			dep("plain", "outside", nil),
			dep("kube-system", "system", nil),
			dep("osm-system", "injector", nil),
		}),
			recordsOf([]appsv1.StatefulSet{{
				ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "db", Generation: 1},
				Spec: appsv1.StatefulSetSpec{
					Template:       template(nil),
					UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType},
				},
				Status: appsv1.StatefulSetStatus{ObservedGeneration: 1},
			}}),
			recordsOf([]appsv1.DaemonSet{{
				ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "agent", Generation: 1},
				Spec:       appsv1.DaemonSetSpec{Template: template(nil)},
				Status:     appsv1.DaemonSetStatus{ObservedGeneration: 1},
			}})),
		Pods: ptrs([]metav1.PartialObjectMetadata{
			podMeta("app", "web-5d9-a", "h1", ownerRef("apps/v1", "ReplicaSet", "web-5d9"), map[string]string{"pod-template-hash": "5d9"}),
			podMeta("app", "web-5d9-b", "h2", ownerRef("apps/v1", "ReplicaSet", "web-5d9"), map[string]string{"pod-template-hash": "5d9"}),
			podMeta("app", "web-7f-c", "h2", ownerRef("apps/v1", "ReplicaSet", "web-7f"),
				map[string]string{"pod-template-hash": "7f", bootstrap.SettingsHashKey: "s2"}),
			func() metav1.PartialObjectMetadata {
				p := podMeta("app", "web-7f-dying", "h0", ownerRef("apps/v1", "ReplicaSet", "web-7f"), map[string]string{"pod-template-hash": "7f"})
				p.DeletionTimestamp = &now
				return p
			}(),
			podMeta("app", "db-0", "h3", ownerRef("apps/v1", "StatefulSet", "db"), nil),
			podMeta("app", "agent-x", "h4", ownerRef("apps/v1", "DaemonSet", "agent"), nil),
			podMeta("app", "no-inject-1-a", "h5", ownerRef("apps/v1", "ReplicaSet", "no-inject-1"), map[string]string{"pod-template-hash": "1"}),
			podMeta("app", "bare", "h6", nil, nil),
			podMeta("app", "job-x", "h7", ownerRef("batch/v1", "Job", "job"), nil),
			podMeta("app", "rs-alone-x", "h8", ownerRef("apps/v1", "ReplicaSet", "rs-alone"), nil),
			podMeta("app", "custom-x", "h9", ownerRef("example.com/v1", "Thing", "thing"), nil),
			podMeta("plain", "outside-pod", "h10", nil, nil),
			podMeta("app", "unlabelled", "", nil, nil),
			// Pods without the sidecar: counted in their workload, dying ones and those of
			// workloads not followed or outside the mesh left out.
			podMeta("app", "web-5d9-u", "", ownerRef("apps/v1", "ReplicaSet", "web-5d9"), map[string]string{"pod-template-hash": "5d9"}),
			podMeta("app", "web-7f-u", "", ownerRef("apps/v1", "ReplicaSet", "web-7f"), map[string]string{"pod-template-hash": "7f"}),
			func() metav1.PartialObjectMetadata {
				p := podMeta("app", "web-7f-udying", "", ownerRef("apps/v1", "ReplicaSet", "web-7f"), map[string]string{"pod-template-hash": "7f"})
				p.DeletionTimestamp = &now
				return p
			}(),
			podMeta("app", "agent-u", "", ownerRef("apps/v1", "DaemonSet", "agent"), nil),
			podMeta("app", "no-inject-1-u", "", ownerRef("apps/v1", "ReplicaSet", "no-inject-1"), map[string]string{"pod-template-hash": "1"}),
			podMeta("plain", "outside-u", "", nil, nil),
			func() metav1.PartialObjectMetadata {
				p := podMeta("app", "web-5d9-optout", "", ownerRef("apps/v1", "ReplicaSet", "web-5d9"), map[string]string{"pod-template-hash": "5d9"})
				p.Annotations = map[string]string{bootstrap.InjectionAnnotation: "disabled"}
				return p
			}(),
		}),
	}
	// The controller lists its cache without copies (client.UnsafeDisableDeepCopy): Collect,
	// real hashing included, must leave the snapshot as it found it.
	before := deepCopySnapshot(snap)
	core := &Hasher{}
	workloads, bare := Collect(snap, func(in bootstrap.Input) (string, string, error) {
		_, _, _ = core.Hash(in)
		return fakeHash(in)
	})
	if diff := cmp.Diff(before, snap); diff != "" {
		t.Fatalf("Collect changed the snapshot (-before +after):\n%s", diff)
	}

	type row struct {
		Target, Stamped, Err, OptOut, Blocked string
		Pods                                  map[string]int
		Phase                                 Phase
		Uninjected                            int
		HealedAt                              int64
	}
	got := map[string]row{}
	for _, w := range workloads {
		r := row{
			Target: w.Target, Stamped: w.Stamped, Blocked: w.Blocked, Phase: w.Rollout.Phase,
			Uninjected: w.Uninjected, HealedAt: w.HealedAt,
		}
		for run, n := range w.Pods {
			if r.Pods == nil {
				r.Pods = map[string]int{}
			}
			r.Pods[run.Hash+"/"+run.Settings] += n
		}
		if w.TargetErr != nil {
			r.Err = w.TargetErr.Error()
		}
		if w.OptedOut {
			r.OptOut = w.OptOutReason
		}
		got[w.Ref.String()] = r
	}
	want := map[string]row{
		"Deployment/app/web":        {Target: "Deployment/web@mesh", Pods: map[string]int{"h1/": 1, "h2/": 1, "h2/s2": 1}, Uninjected: 2},
		"Deployment/app/healed":     {Target: "Deployment/healed@mesh", HealedAt: 3},
		"Deployment/app/pinned-pod": {Target: "Deployment/pinned-pod@pod-collector", Stamped: "h0"},
		"Deployment/pinned/api":     {Target: "Deployment/api@ns-collector"},
		"Deployment/app/typo-inject": {
			Err: `the webhook refuses its pods: pod annotation openservicemesh.io/sidecar-injection: invalid value "maybe": ` +
				`must be one of enabled, true, yes (inject) or disabled, false, no (do not inject)`,
		},
		"Deployment/app/opted":     {Target: "Deployment/opted@mesh", OptOut: `opted out by workload annotation tracing.openservicemesh.io/auto-rebootstrap: "false"`},
		"Deployment/app/opted-tpl": {Target: "Deployment/opted-tpl@mesh", OptOut: `opted out by pod template annotation tracing.openservicemesh.io/auto-rebootstrap: "false"`},
		"Deployment/app/opt-typo": {
			Target: "Deployment/opt-typo@mesh",
			OptOut: `treated as opted out: workload annotation tracing.openservicemesh.io/auto-rebootstrap: "nope" is neither "true" nor "false"`,
		},
		"Deployment/app/opt-in":  {Target: "Deployment/opt-in@mesh"},
		"Deployment/app/bad":     {Err: "address: bad"},
		"Deployment/app/paused":  {Target: "Deployment/paused@mesh", Blocked: "the Deployment is paused"},
		"Deployment/app/rolling": {Target: "Deployment/rolling@mesh", Phase: PhaseProgressing},
		"StatefulSet/app/db": {
			Target: "StatefulSet/db@mesh", Pods: map[string]int{"h3/": 1}, Phase: PhaseProgressing,
			Blocked: "the StatefulSet's update strategy is OnDelete",
		},
		"DaemonSet/app/agent": {Target: "DaemonSet/agent@mesh", Pods: map[string]int{"h4/": 1}, Uninjected: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}

	var gotBare []string
	for _, p := range bare {
		if p.Uninjected {
			gotBare = append(gotBare, p.Ref.String()+" uninjected")
			continue
		}
		gotBare = append(gotBare, p.Ref.String()+" "+p.Run.Hash+" -> "+p.Target+" ("+p.TargetSettings+")")
	}
	wantBare := []string{
		"Pod/app/bare h6 -> pod:bare@mesh (settings:mesh)",
		"Pod/app/job-x h7 -> Job/job@mesh (settings:mesh)",
		"Pod/app/rs-alone-x h8 -> ReplicaSet/rs-alone@mesh (settings:mesh)",
		"Pod/app/custom-x h9 -> pod:custom-x@mesh (settings:mesh)",
		"Pod/app/unlabelled uninjected",
	}
	if diff := cmp.Diff(wantBare, gotBare); diff != "" {
		t.Errorf("bare pods (-want +got):\n%s", diff)
	}
}

func TestCollectWithoutNamespacesFollowsNothing(t *testing.T) {
	ws, bare := Collect(&Snapshot{Workloads: recordsOf([]appsv1.Deployment{dep("app", "web", nil)})}, fakeHash)
	if len(ws) != 0 || len(bare) != 0 {
		t.Errorf("got %d workloads and %d pods in no injected namespace", len(ws), len(bare))
	}
}

// TestTargetMatchesWhatTheWebhookComputes checks, with the real core, that the target of a
// Deployment's template is the hash a pod created from it gets: same annotations and
// labels, and the owner the webhook derives from the pod's ReplicaSet.
func TestTargetMatchesWhatTheWebhookComputes(t *testing.T) {
	mesh := meshSpec(true, "collector.tracing", 9411)
	nsAnn := map[string]string{bootstrap.AnnotationSampling: "50"}
	tplAnn := map[string]string{bootstrap.AnnotationEndpoint: "/v2", bootstrap.BootstrapHashKey: "old"}
	d := dep("app", "bookbuyer", tplAnn)
	var h Hasher
	ws, _ := Collect(&Snapshot{
		ControlPlaneNamespace: "osm-system",
		Defaults:              bootstrap.Defaults("osm-system"),
		Mesh:                  mesh,
		Namespaces:            []corev1.Namespace{namespace("app", true, nsAnn)},
		Workloads:             recordsOf([]appsv1.Deployment{d}),
	}, h.Hash)
	if len(ws) != 1 || ws[0].TargetErr != nil {
		t.Fatalf("workloads %+v", ws)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: "app", GenerateName: "bookbuyer-7c9-",
		Labels:          map[string]string{"app": "x", "pod-template-hash": "7c9"},
		Annotations:     tplAnn,
		OwnerReferences: []metav1.OwnerReference{*ownerRef("apps/v1", "ReplicaSet", "bookbuyer-7c9")},
	}}
	// What the webhook does with that pod at admission.
	res, err := inject.Mutate(pod, inject.Namespace{Name: "app", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}, Annotations: nsAnn},
		inject.Env{ControlPlaneNamespace: "osm-system", Mesh: mesh})
	if err != nil || res.Skipped {
		t.Fatalf("the webhook does not inject the pod: %v %s", err, res.Reason)
	}
	g, s := res.Bootstrap, res.Settings
	if ws[0].Target != g.Hash || s.ServiceName != "bookbuyer" {
		t.Errorf("template target %s, pod hash %s (service %s)", ws[0].Target, g.Hash, s.ServiceName)
	}
	if !strings.Contains(string(g.YAML), "collector.tracing") {
		t.Errorf("the bootstrap does not name the collector:\n%s", g.YAML)
	}
}

// TestBareGenerateNamePodIsNotStale: a bare pod created with generateName and no app label
// is named after its generateName at admission (the API server has not named it yet); the
// collector must resolve the live pod, which has a name too, to the same hash, or the pod
// shows as stale forever.
func TestBareGenerateNamePodIsNotStale(t *testing.T) {
	mesh := meshSpec(true, "collector.tracing", 9411)
	ns := namespace("app", true, nil)
	admitted := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", GenerateName: "batch-runner-"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
	}
	res, err := inject.Mutate(admitted, inject.Namespace{Name: ns.Name, Labels: ns.Labels}, inject.Env{ControlPlaneNamespace: "osm-system", Mesh: mesh})
	if err != nil || res.Skipped {
		t.Fatalf("the webhook does not inject the pod: %v %s", err, res.Reason)
	}
	if res.Settings.ServiceName != "batch-runner" {
		t.Fatalf("service name %q at admission, want batch-runner", res.Settings.ServiceName)
	}
	live := podMeta("app", "batch-runner-x7k2p", res.Bootstrap.Hash, nil, nil)
	live.GenerateName = "batch-runner-"
	var h Hasher
	_, bare := Collect(&Snapshot{
		ControlPlaneNamespace: "osm-system",
		Defaults:              bootstrap.Defaults("osm-system"),
		Mesh:                  mesh,
		Namespaces:            []corev1.Namespace{ns},
		Pods:                  ptrs([]metav1.PartialObjectMetadata{live}),
	}, h.Hash)
	if len(bare) != 1 {
		t.Fatalf("bare pods %+v, want the one", bare)
	}
	if b := bare[0]; b.TargetErr != nil || b.Target != b.Run.Hash {
		t.Errorf("the live pod resolves to %s (err %v), but it runs %s, which the webhook gave it: it would show as stale", b.Target, b.TargetErr, b.Run.Hash)
	}
}

func deepCopySnapshot(s *Snapshot) *Snapshot {
	c := *s
	c.Mesh = s.Mesh.DeepCopy()
	c.Namespaces, c.Workloads, c.Pods = nil, nil, nil
	for i := range s.Namespaces {
		c.Namespaces = append(c.Namespaces, *s.Namespaces[i].DeepCopy())
	}
	for _, r := range s.Workloads {
		c.Workloads = append(c.Workloads, r.DeepCopyObject().(*WorkloadRecord))
	}
	for _, p := range s.Pods {
		c.Pods = append(c.Pods, p.DeepCopy())
	}
	return &c
}

// recordsOf makes the records of a test's Deployments, StatefulSets or DaemonSets, as the
// cache holds them.
func recordsOf[T any](items []T) []*WorkloadRecord {
	out := make([]*WorkloadRecord, len(items))
	for i := range items {
		r, ok := RecordOf(&items[i])
		if !ok {
			panic(fmt.Sprintf("no record for a %T", &items[i]))
		}
		out[i] = r
	}
	return out
}

// ptrs points at each element of a test's slice, as a Snapshot holds them.
func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
