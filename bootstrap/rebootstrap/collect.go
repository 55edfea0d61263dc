package rebootstrap

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// Snapshot is what the controller read from its cache for one reconcile.
type Snapshot struct {
	// ControlPlaneNamespace is never injected.
	ControlPlaneNamespace string
	// Defaults and Mesh are the two lowest layers of every workload's settings.
	Defaults bootstrap.Tracing
	Mesh     *v1alpha2.TracingSpec

	Namespaces   []corev1.Namespace
	Deployments  []appsv1.Deployment
	StatefulSets []appsv1.StatefulSet
	DaemonSets   []appsv1.DaemonSet
	// Pods are the metadata of the pods that carry the bootstrap-hash label.
	Pods []metav1.PartialObjectMetadata
}

// HashFunc returns the bootstrap hash for a pod's resolve input (Hasher.Hash).
type HashFunc func(bootstrap.Input) (string, error)

// Collect turns a snapshot into the planner's input: the injected workloads with their
// targets, stamps, pods' hashes, opt-outs and rollouts, and the bare pods. A workload is
// injected when its namespace is labelled for injection (and is not kube-system, kube-public
// or the control plane's), its template does not opt out of injection and does not use the
// host network. Objects being deleted are left out, and so are terminating pods.
func Collect(s *Snapshot, hash HashFunc) ([]Workload, []BarePod) {
	namespaces := injectedNamespaces(s.Namespaces, s.ControlPlaneNamespace)
	c := collector{snap: s, hash: hash, namespaces: namespaces, index: map[Ref]int{}}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		c.add(KindDeployment, &d.ObjectMeta, &d.Spec.Template, DeploymentRollout(d), DeploymentBlocked(d))
	}
	for i := range s.StatefulSets {
		st := &s.StatefulSets[i]
		c.add(KindStatefulSet, &st.ObjectMeta, &st.Spec.Template, StatefulSetRollout(st), StatefulSetBlocked(st))
	}
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		c.add(KindDaemonSet, &ds.ObjectMeta, &ds.Spec.Template, DaemonSetRollout(ds), DaemonSetBlocked(ds))
	}
	for i := range s.Pods {
		c.pod(&s.Pods[i])
	}
	return c.workloads, c.bare
}

type collector struct {
	snap       *Snapshot
	hash       HashFunc
	namespaces map[string]map[string]string
	workloads  []Workload
	index      map[Ref]int
	bare       []BarePod
}

// add records one workload if it is injected.
func (c *collector) add(kind string, m *metav1.ObjectMeta, tpl *corev1.PodTemplateSpec, r Rollout, blocked string) {
	nsAnn, ok := c.namespaces[m.Namespace]
	if !ok || m.DeletionTimestamp != nil || tpl.Spec.HostNetwork {
		return
	}
	w := Workload{
		Ref:        Ref{Kind: kind, Namespace: m.Namespace, Name: m.Name},
		UID:        m.UID,
		Generation: m.Generation,
		Stamped:    tpl.Annotations[bootstrap.BootstrapHashKey],
		Blocked:    blocked,
		Rollout:    r,
	}
	switch injection(tpl.Annotations) {
	case injectionOff:
		return
	case injectionInvalid:
		w.TargetErr = &injectionValueError{value: tpl.Annotations[bootstrap.InjectionAnnotation]}
	default:
		w.Target, w.TargetErr = c.hash(bootstrap.Input{
			Defaults:             c.snap.Defaults,
			Mesh:                 c.snap.Mesh,
			NamespaceName:        m.Namespace,
			NamespaceAnnotations: nsAnn,
			PodAnnotations:       tpl.Annotations,
			Owner:                bootstrap.WorkloadOf(kind, m.Name),
			PodLabels:            tpl.Labels,
		})
	}
	w.OptedOut, w.OptOutReason = optedOut(m.Annotations, tpl.Annotations)
	c.index[w.Ref] = len(c.workloads)
	c.workloads = append(c.workloads, w)
}

// pod attaches a live injected pod's hash to the workload that owns it, or records it as
// bare when no Deployment, StatefulSet or DaemonSet controls it.
func (c *collector) pod(p *metav1.PartialObjectMetadata) {
	nsAnn, ok := c.namespaces[p.Namespace]
	hash := p.Labels[bootstrap.BootstrapHashKey]
	if !ok || p.DeletionTimestamp != nil || hash == "" {
		return
	}
	owner := bootstrap.OwnerOf(&corev1.Pod{ObjectMeta: p.ObjectMeta})
	switch owner.Kind {
	case KindDeployment, KindStatefulSet, KindDaemonSet:
		if i, ok := c.index[Ref{Kind: owner.Kind, Namespace: p.Namespace, Name: owner.Name}]; ok {
			w := &c.workloads[i]
			if w.PodHashes == nil {
				w.PodHashes = map[string]int{}
			}
			w.PodHashes[hash]++
		}
		// A pod of a workload that is not followed (it opted out of injection since) goes
		// away with that workload's next rollout.
		return
	case bootstrap.KindReplicaSet:
		// A ReplicaSet of a Deployment whose pod lost its pod-template-hash label, or a
		// standalone ReplicaSet: report it like a bare pod.
	}
	target, err := c.hash(bootstrap.Input{
		Defaults:             c.snap.Defaults,
		Mesh:                 c.snap.Mesh,
		NamespaceName:        p.Namespace,
		NamespaceAnnotations: nsAnn,
		PodAnnotations:       p.Annotations,
		Owner:                owner,
		PodLabels:            p.Labels,
		PodName:              p.Name,
	})
	c.bare = append(c.bare, BarePod{
		Ref:  Ref{Kind: KindPod, Namespace: p.Namespace, Name: p.Name},
		UID:  p.UID,
		Hash: hash, Target: target, TargetErr: err,
	})
}

// injectedNamespaces maps every namespace whose pods are injected to its annotations.
func injectedNamespaces(nss []corev1.Namespace, controlPlane string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(nss))
	for i := range nss {
		ns := &nss[i]
		switch ns.Name {
		case metav1.NamespaceSystem, metav1.NamespacePublic, controlPlane:
			continue
		}
		if ns.Labels[bootstrap.InjectionLabel] != "enabled" || ns.DeletionTimestamp != nil {
			continue
		}
		out[ns.Name] = ns.Annotations
	}
	return out
}

type injectionChoice int

const (
	injectionOn injectionChoice = iota
	injectionOff
	injectionInvalid
)

// injection reads a pod template's injection annotation as the webhook reads a pod's.
func injection(ann map[string]string) injectionChoice {
	v, ok := ann[bootstrap.InjectionAnnotation]
	if !ok {
		return injectionOn
	}
	switch strings.ToLower(v) {
	case "enabled", "true", "yes":
		return injectionOn
	case "disabled", "false", "no":
		return injectionOff
	}
	return injectionInvalid
}

type injectionValueError struct{ value string }

func (e *injectionValueError) Error() string {
	return "pod template annotation " + bootstrap.InjectionAnnotation + ": " + quote(e.value) +
		" is not one of enabled, true, yes, disabled, false, no (the webhook refuses its pods)"
}

// optedOut reads the auto-rebootstrap annotation, on the workload first, then on its pod
// template. Only "false" opts out; any other value than "true" opts out too (a typo must not
// restart a workload its owner meant to protect), and the reason says so.
func optedOut(workload, template map[string]string) (bool, string) {
	for _, src := range []struct {
		where string
		ann   map[string]string
	}{{"workload", workload}, {"pod template", template}} {
		v, ok := src.ann[bootstrap.AnnotationAutoRebootstrap]
		if !ok {
			continue
		}
		switch strings.ToLower(v) {
		case "true":
			continue
		case "false":
			return true, "opted out by " + src.where + " annotation " + bootstrap.AnnotationAutoRebootstrap + `: "false"`
		}
		return true, "treated as opted out: " + src.where + " annotation " + bootstrap.AnnotationAutoRebootstrap +
			": " + quote(v) + ` is neither "true" nor "false"`
	}
	return false, ""
}

func quote(s string) string { return `"` + s + `"` }
