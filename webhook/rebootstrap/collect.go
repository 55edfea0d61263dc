package rebootstrap

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Snapshot is what the controller read from its cache for one reconcile.
type Snapshot struct {
	// ControlPlaneNamespace is never injected.
	ControlPlaneNamespace string
	// Defaults and Mesh are the two lowest layers of every workload's settings.
	Defaults bootstrap.Tracing
	Mesh     *v1alpha2.ObservabilitySpec

	// The objects are the reader's own when it is a cache (ReadSnapshot): read them, never
	// change them.
	Namespaces []corev1.Namespace
	// Workloads are the records of every Deployment, StatefulSet and DaemonSet.
	Workloads []*WorkloadRecord
	// Pods are the metadata of all pods: those with the bootstrap-hash label run the
	// sidecar, the others do not.
	Pods []*metav1.PartialObjectMetadata
}

// HashFunc returns the bootstrap hash and the settings hash for a pod's resolve input
// (Hasher.Hash).
type HashFunc func(bootstrap.Input) (hash, settings string, err error)

// Collect turns a snapshot into the planner's input: the injected workloads with their
// targets, stamps, pods' hashes, opt-outs and rollouts, and the bare pods. A workload is
// injected when its namespace is labelled for injection (and is not kube-system, kube-public
// or the control plane's), its template does not opt out of injection and does not use the
// host network (the webhook's own rule, inject.Decide). Objects being deleted are left out, and so are terminating pods.
// A live pod without the bootstrap-hash label runs without the sidecar: it counts as
// uninjected in its workload (Workload.Uninjected), or as an uninjected bare pod.
func Collect(s *Snapshot, hash HashFunc) ([]Workload, []BarePod) {
	namespaces := make(map[string]*corev1.Namespace, len(s.Namespaces))
	for i := range s.Namespaces {
		if ns := &s.Namespaces[i]; ns.DeletionTimestamp == nil {
			namespaces[ns.Name] = ns
		}
	}
	n := len(s.Workloads)
	c := &collector{snap: s, hash: hash, namespaces: namespaces, index: make(map[Ref]int, n), workloads: make([]Workload, 0, n)}
	for _, r := range s.Workloads {
		c.add(r)
	}
	for _, p := range s.Pods {
		c.pod(p)
	}
	return c.workloads, c.bare
}

type collector struct {
	snap       *Snapshot
	hash       HashFunc
	namespaces map[string]*corev1.Namespace
	workloads  []Workload
	index      map[Ref]int
	bare       []BarePod
	// decidePod and ownerPod are scratch pods, filled for each call instead of allocating a
	// Pod (1.2 KiB) per workload and pod at every pass: the core's rules take a Pod and keep
	// nothing of it.
	decidePod, ownerPod corev1.Pod
	// template is a scratch copy of a workload's pod template metadata, for the same reason.
	template metav1.ObjectMeta
}

// add records one workload if it is injected.
func (c *collector) add(r *WorkloadRecord) {
	ns, ok := c.namespaces[r.Namespace]
	if !ok || r.DeletionTimestamp != nil {
		return
	}
	tpl := &c.template
	*tpl = metav1.ObjectMeta{Name: r.TemplatePodName, Labels: r.TemplateLabels, Annotations: r.TemplateAnnotations}
	injected, err := c.decide(tpl, ns, r.HostNetwork)
	if !injected && err == nil {
		return
	}
	w := Workload{
		Ref:          r.Ref(),
		UID:          r.UID,
		Generation:   r.Generation,
		Stamped:      r.TemplateAnnotations[bootstrap.BootstrapHashKey],
		Blocked:      r.Blocked,
		Rollout:      r.Rollout,
		OptedOut:     r.OptedOut,
		OptOutReason: r.OptOutReason,
		HealedAt:     HealedGeneration(r.TemplateAnnotations[HealAnnotation]),
	}
	if err != nil {
		w.TargetErr = fmt.Errorf("the webhook refuses its pods: %w", err)
	} else {
		w.Target, w.TargetSettings, w.TargetErr = c.hash(c.env().TemplateInput(bootstrap.WorkloadOf(r.Kind, r.Name), tpl, namespaceOf(ns)))
	}
	c.index[w.Ref] = len(c.workloads)
	c.workloads = append(c.workloads, w)
}

// pod attaches a live pod to the workload that owns it: its hash when injected, else it
// counts as uninjected. A pod no Deployment, StatefulSet or DaemonSet controls is recorded as
// bare. Pods being deleted are left out; metadata cannot tell a pod that ended (Succeeded,
// Failed) from a running one, so a bare pod that ended without the sidecar is reported
// until it is deleted.
func (c *collector) pod(p *metav1.PartialObjectMetadata) {
	ns, ok := c.namespaces[p.Namespace]
	if !ok || p.DeletionTimestamp != nil {
		return
	}
	if injected, err := c.decide(&p.ObjectMeta, ns, false); !injected || err != nil {
		return // a new pod would not be injected here (any more): nothing to compare with
	}
	run := inject.RunOf(p.Labels)
	// Without a bootstrap hash the pod runs no sidecar, whatever its target
	// (inject.StandingUninjected); its target is not computed for that.
	uninjected := inject.PodStanding(run, "", "") == inject.StandingUninjected
	pod := &c.ownerPod
	*pod = corev1.Pod{ObjectMeta: p.ObjectMeta}
	owner := bootstrap.OwnerOf(pod)
	switch owner.Kind {
	case bootstrap.KindDeployment, bootstrap.KindStatefulSet, bootstrap.KindDaemonSet:
		if i, ok := c.index[Ref{Kind: owner.Kind, Namespace: p.Namespace, Name: owner.Name}]; ok {
			w := &c.workloads[i]
			if uninjected {
				w.Uninjected++
				return
			}
			if w.Pods == nil {
				w.Pods = map[PodRun]int{}
			}
			w.Pods[run]++
		}
		// A pod of a workload that is not followed (it opted out of injection since) goes
		// away with that workload's next rollout.
		return
	case bootstrap.KindReplicaSet:
		// A ReplicaSet of a Deployment whose pod lost its pod-template-hash label, or a
		// standalone ReplicaSet: report it like a bare pod.
	}
	ref := Ref{Kind: bootstrap.KindPod, Namespace: p.Namespace, Name: p.Name}
	if uninjected {
		c.bare = append(c.bare, BarePod{Ref: ref, UID: p.UID, Uninjected: true})
		return
	}
	// The webhook's own input for the pod (its generateName, not its name, when it has one).
	target, settings, err := c.hash(c.env().PodInput(pod, namespaceOf(ns)))
	c.bare = append(c.bare, BarePod{
		Ref: ref, UID: p.UID,
		Run: run, Target: target, TargetSettings: settings, TargetErr: err,
	})
}

// decide asks the webhook's own rule whether a pod with this metadata and host-network
// setting, in namespace ns, is injected. A workload's record has no pod spec, so the sidecar
// is never seen in a template: an injected pod is never mistaken for "already injected".
func (c *collector) decide(m *metav1.ObjectMeta, ns *corev1.Namespace, hostNetwork bool) (bool, error) {
	pod := &c.decidePod
	*pod = corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Labels: m.Labels, Annotations: m.Annotations},
		Spec:       corev1.PodSpec{HostNetwork: hostNetwork},
	}
	ok, _, err := inject.Decide(pod, namespaceOf(ns), c.snap.ControlPlaneNamespace)
	return ok, err
}

// env is the webhook's environment as the snapshot shows it.
func (c *collector) env() inject.Env {
	return inject.Env{ControlPlaneNamespace: c.snap.ControlPlaneNamespace, Defaults: c.snap.Defaults, Mesh: c.snap.Mesh}
}

func namespaceOf(ns *corev1.Namespace) inject.Namespace { return inject.NamespaceOf(ns) }

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
			": " + strconv.Quote(v) + ` is neither "true" nor "false"`
	}
	return false, ""
}
