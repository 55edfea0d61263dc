package rebootstrap

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// BenchmarkCollectAndPlan is one pass of the controller over a large cluster: 10,000
// one-replica Deployments in 20 labelled namespaces and their 10,000 injected pods, with
// the hashes memoised (as they are after the first pass). It reports the time and memory
// a pass costs, which set the controller's CPU and much of its RSS while workloads roll.
func BenchmarkCollectAndPlan(b *testing.B) {
	const workloads, nss = 10000, 20
	s := &Snapshot{ControlPlaneNamespace: "osm-system", Defaults: bootstrap.Defaults("osm-system")}
	for i := range nss {
		s.Namespaces = append(s.Namespaces, namespace(fmt.Sprintf("ns-%02d", i), true, nil))
	}
	h := &Hasher{}
	for i := range workloads {
		ns, name := fmt.Sprintf("ns-%02d", i%nss), fmt.Sprintf("app-%05d", i)
		d := dep(ns, name, nil)
		d.Spec.Template.Labels = map[string]string{"app": name}
		r, _ := RecordOf(&d)
		s.Workloads = append(s.Workloads, r)
	}
	first, _ := Collect(s, h.Hash) // the targets, and the memo warmed
	for _, w := range first {
		s.Pods = append(s.Pods, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			Namespace: w.Ref.Namespace, Name: w.Ref.Name + "-1-x",
			Labels: map[string]string{
				"app": w.Ref.Name, "pod-template-hash": "1",
				bootstrap.BootstrapHashKey: w.Target, bootstrap.SettingsHashKey: w.TargetSettings,
			},
			OwnerReferences: []metav1.OwnerReference{*ownerRef("apps/v1", "ReplicaSet", w.Ref.Name+"-1")},
		}})
	}
	var ws []Workload
	b.ReportAllocs()
	for b.Loop() {
		var bare []BarePod
		ws, bare = Collect(s, h.Hash)
		Plan(Input{Workloads: ws, BarePods: bare, MaxConcurrent: 50})
	}
	if len(ws) != workloads {
		b.Fatalf("%d workloads, want %d", len(ws), workloads)
	}
}
