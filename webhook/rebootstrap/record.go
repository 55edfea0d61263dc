package rebootstrap

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// WorkloadRecord is what the planner keeps of a Deployment, StatefulSet or DaemonSet, read
// from the object by RecordOf: its kind, name, UID, version, generation and deletion; its pod
// template's labels, annotations and host-network flag (the webhook's inputs); its
// auto-rebootstrap opt-out; its rollout phase and what blocks a rollout, as its status and
// spec said when the record was made.
//
// The controller's cache holds records instead of the objects: a Deployment costs about
// 3 KiB in memory even with its pod spec trimmed (the struct alone is 1.2 KiB), a record
// about 1.2 KiB; with thousands of workloads that was most of the controller's heap. The cache's transform makes a new record at every event of the object, so the
// record is as current as the object would be.
type WorkloadRecord struct {
	metav1.TypeMeta
	// ObjectMeta holds only the namespace, name, UID, resource version, generation and
	// deletion timestamp. The resource version must stay: an informer passes an update on to
	// its handlers only when the resource version changed (an equal one is a resync).
	metav1.ObjectMeta
	// TemplateLabels and TemplateAnnotations are the pod template's (copies, their keys
	// shared with other records: see intern); TemplatePodName is the name the webhook would
	// read from the template (inject.PodName: its generateName, else its name; mostly "").
	TemplatePodName     string
	TemplateLabels      map[string]string
	TemplateAnnotations map[string]string
	// HostNetwork is the pod template's: such pods are never injected.
	HostNetwork bool
	// OptedOut and OptOutReason: the workload or its template opts out of re-bootstraps.
	OptedOut     bool
	OptOutReason string
	// Rollout is the workload's own rollout, as its status tells it.
	Rollout Rollout
	// Blocked says why stamping the template would not roll the workload ("" when it would).
	Blocked string
}

// RecordOf makes the record of a *appsv1.Deployment, *appsv1.StatefulSet or
// *appsv1.DaemonSet, and returns a *WorkloadRecord as it is (the cache's store holds
// records; client-go's watch-list mode transforms twice); ok is false for any other object.
func RecordOf(obj any) (r *WorkloadRecord, ok bool) {
	switch o := obj.(type) {
	case *WorkloadRecord:
		return o, true
	case *appsv1.Deployment:
		return newRecord(bootstrap.KindDeployment, &o.ObjectMeta, &o.Spec.Template, DeploymentRollout(o), DeploymentBlocked(o)), true
	case *appsv1.StatefulSet:
		return newRecord(bootstrap.KindStatefulSet, &o.ObjectMeta, &o.Spec.Template, StatefulSetRollout(o), StatefulSetBlocked(o)), true
	case *appsv1.DaemonSet:
		return newRecord(bootstrap.KindDaemonSet, &o.ObjectMeta, &o.Spec.Template, DaemonSetRollout(o), DaemonSetBlocked(o)), true
	}
	return nil, false
}

func newRecord(kind string, m *metav1.ObjectMeta, tpl *corev1.PodTemplateSpec, r Rollout, blocked string) *WorkloadRecord {
	rec := &WorkloadRecord{
		TypeMeta: metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: kind},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: intern(m.Namespace), Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion,
			Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp,
		},
		TemplatePodName:     inject.PodName(&tpl.ObjectMeta),
		TemplateLabels:      internKeys(tpl.Labels, ""),
		TemplateAnnotations: internKeys(tpl.Annotations, ""),
		HostNetwork:         tpl.Spec.HostNetwork,
		Rollout:             r,
		Blocked:             blocked,
	}
	rec.OptedOut, rec.OptOutReason = optedOut(m.Annotations, tpl.Annotations)
	return rec
}

// Ref names the workload.
func (r *WorkloadRecord) Ref() Ref {
	return Ref{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// DeepCopyObject copies the record (the informer machinery holds objects as runtime.Object).
func (r *WorkloadRecord) DeepCopyObject() runtime.Object {
	out := *r
	r.DeepCopyInto(&out.ObjectMeta) // ObjectMeta's, promoted
	out.TemplateLabels = maps.Clone(r.TemplateLabels)
	out.TemplateAnnotations = maps.Clone(r.TemplateAnnotations)
	return &out
}
