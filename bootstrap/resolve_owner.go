package bootstrap

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Workload names the object that owns a pod (Deployment, StatefulSet, DaemonSet, Job), or
// is zero when the pod has no such owner. A ReplicaSet whose Deployment cannot be told from
// the pod is named as a ReplicaSet; the CLI also names CronJobs (see WorkloadOf).
type Workload struct {
	Kind string
	Name string
}

// IsZero reports a pod without a known owning workload.
func (w Workload) IsZero() bool { return w.Name == "" }

// String is Kind/Name, or "" for the zero Workload.
func (w Workload) String() string {
	if w.IsZero() {
		return ""
	}
	return w.Kind + "/" + w.Name
}

// Kinds of the workloads that own injected pods, and of the pods themselves. They are the one
// definition of these names in the module: the re-bootstrap controller, the CLI and the
// admission path use them.
const (
	KindPod         = "Pod"
	KindDeployment  = "Deployment"
	KindReplicaSet  = "ReplicaSet"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
	KindJob         = "Job"
	KindCronJob     = "CronJob"
)

// PodTemplateHashLabel is the label the Deployment controller puts on a ReplicaSet's pods;
// the ReplicaSet is named <deployment>-<hash>.
const PodTemplateHashLabel = "pod-template-hash"

// Labels that name an application, the service-name fallbacks after the owning workload.
const (
	LabelAppName = "app.kubernetes.io/name"
	LabelApp     = "app"
)

// fallbackServiceName names spans of a pod without any usable name (Zipkin's own convention).
const fallbackServiceName = "unknown"

// OwnerOf returns the workload that owns pod, from its controller owner reference: a
// ReplicaSet is named after its Deployment by stripping the pod's pod-template-hash label
// (without the label it stays a ReplicaSet); a StatefulSet, DaemonSet or Job is named as is
// (a Job created by a CronJob keeps its own name). Only the built-in kinds count (group apps,
// or batch for Job); any other owner gives the zero Workload.
func OwnerOf(pod *corev1.Pod) Workload {
	if pod == nil {
		return Workload{}
	}
	for i := range pod.OwnerReferences {
		ref := &pod.OwnerReferences[i]
		if ref.Controller == nil || !*ref.Controller || ref.Name == "" {
			continue
		}
		group, _, _ := strings.Cut(ref.APIVersion, "/")
		switch {
		case group == "apps" && ref.Kind == KindReplicaSet:
			if d := deploymentOf(ref.Name, pod.Labels[PodTemplateHashLabel]); d != "" {
				return Workload{Kind: KindDeployment, Name: d}
			}
			return Workload{Kind: KindReplicaSet, Name: ref.Name}
		case group == "apps" && (ref.Kind == KindStatefulSet || ref.Kind == KindDaemonSet):
			return Workload{Kind: ref.Kind, Name: ref.Name}
		case group == "batch" && ref.Kind == KindJob:
			return Workload{Kind: KindJob, Name: ref.Name}
		}
		return Workload{}
	}
	return Workload{}
}

// deploymentOf returns the Deployment's name from its ReplicaSet's name <deployment>-<hash>,
// or "" when rs does not end with -<hash>.
func deploymentOf(rs, hash string) string {
	if hash == "" || len(rs) < len(hash)+2 || !strings.HasSuffix(rs, hash) || rs[len(rs)-len(hash)-1] != '-' {
		return ""
	}
	return rs[:len(rs)-len(hash)-1]
}

// WorkloadOf is the Workload of the pods of a workload object's template, for callers that
// hold the workload rather than a pod (the re-bootstrap controller, osm inject). It gives the
// zero Workload for kinds that do not own injected pods (Pod, say) or an empty name.
func WorkloadOf(kind, name string) Workload {
	if name == "" {
		return Workload{}
	}
	switch kind {
	case KindDeployment, KindReplicaSet, KindStatefulSet, KindDaemonSet, KindJob, KindCronJob:
		return Workload{Kind: kind, Name: name}
	}
	return Workload{}
}

// derivedServiceName is the service name of a pod without the service-name annotation: the
// first of the owner's name, the labels app.kubernetes.io/name and app, and the pod's name
// (or generateName prefix) that makes a non-empty DNS-1123 label.
func derivedServiceName(owner Workload, labels map[string]string, podName string) string {
	for _, candidate := range [...]string{owner.Name, labels[LabelAppName], labels[LabelApp], podName} {
		if s := SanitizeServiceName(candidate); s != "" {
			return s
		}
	}
	return fallbackServiceName
}

// SanitizeServiceName turns a name into a DNS-1123 label: lowercase, every other character
// than a letter, digit or '-' replaced by '-', trimmed of leading and trailing '-' (so a
// generateName prefix such as "web-" gives "web"), cut to 63 bytes. It returns "" when
// nothing is left. A name that already is a label is returned as is.
func SanitizeServiceName(name string) string {
	if isDNSLabel(name) {
		return name
	}
	b := make([]byte, 0, min(len(name), maxLabelLen))
	dash := false // a '-' is pending, written only when a letter or digit follows
	for i := 0; i < len(name) && len(b) < maxLabelLen; i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if !isLowerAlnum(c) {
			dash = len(b) > 0
			continue
		}
		if dash {
			b = append(b, '-')
			dash = false
			if len(b) == maxLabelLen {
				break
			}
		}
		b = append(b, c)
	}
	return strings.TrimRight(string(b), "-")
}
