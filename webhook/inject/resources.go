package inject

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// The accepted forms of the proxy resource annotations, as error messages state them.
const (
	acceptedCPU    = "must be a positive Kubernetes quantity of CPU (such as 100m, 0.5 or 2)"
	acceptedMemory = "must be a positive Kubernetes quantity of memory, a whole number of bytes " +
		"(such as 128Mi or 1Gi; 128m would be 0.128 bytes)"
)

// sourceProxyConfig names the chart's resources in a request-above-limit message.
const sourceProxyConfig = "the chart's osm.sidecar.resources, --envoy-resources"

// resourceAnnotation is one of the proxy resource annotations: which resource, and whether it
// sets the request or the limit.
type resourceAnnotation struct {
	key      string
	name     corev1.ResourceName
	limit    bool
	accepted string
}

var resourceAnnotations = []resourceAnnotation{
	{AnnotationProxyCPURequest, corev1.ResourceCPU, false, acceptedCPU},
	{AnnotationProxyCPULimit, corev1.ResourceCPU, true, acceptedCPU},
	{AnnotationProxyMemoryRequest, corev1.ResourceMemory, false, acceptedMemory},
	{AnnotationProxyMemoryLimit, corev1.ResourceMemory, true, acceptedMemory},
}

// setBy is where a merged request or limit came from: the annotation's source and value, or
// nothing for the proxy config's.
type setBy struct {
	source, key, value string
	// layer orders the setters: 1 the namespace, 2 the pod (0, unset, is the chart).
	layer int
}

// ResolveResources returns the envoy container's resources for pod in namespace ns: the proxy
// config's (the chart's osm.sidecar.resources), then the namespace's proxy resource
// annotations, then the pod's, each annotation replacing one value (the pod's
// openservicemesh.io/proxy-cpu-limit wins over the namespace's, and leaves the CPU request as
// the namespace or the chart set it). A value is a positive Kubernetes quantity (memory in
// whole bytes); a request above its limit once merged is refused, since Kubernetes would
// refuse the pod. Every error is a *bootstrap.FieldError naming the source, the annotation, the
// value and what is accepted (joined). The resources do not depend on, nor change, the
// bootstrap: they are not part of bootstrap.Settings, so changing them re-bootstraps nothing
// (a workload's pods take them when they are next created).
func ResolveResources(pod *corev1.Pod, ns Namespace, proxy ProxyConfig) (corev1.ResourceRequirements, error) {
	out := *proxy.Resources.DeepCopy()
	by := map[resourceAnnotation]setBy{}
	var errs []error
	for i, l := range annotationLayers(pod, ns) {
		for _, ra := range resourceAnnotations {
			v, ok := l.ann[ra.key]
			if !ok {
				continue
			}
			q, err := parseProxyQuantity(ra.name, v)
			if err != nil {
				errs = append(errs, &bootstrap.FieldError{Source: l.source, Field: ra.key, Value: v, Accepted: ra.accepted})
				continue
			}
			list := &out.Requests
			if ra.limit {
				list = &out.Limits
			}
			if *list == nil {
				*list = corev1.ResourceList{}
			}
			(*list)[ra.name] = q
			by[ra] = setBy{source: l.source, key: ra.key, value: v, layer: i + 1}
		}
	}
	if len(errs) > 0 {
		return corev1.ResourceRequirements{}, errors.Join(errs...)
	}
	for i := 0; i < len(resourceAnnotations); i += 2 {
		if err := requestWithinLimit(out, resourceAnnotations[i], resourceAnnotations[i+1], by); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return corev1.ResourceRequirements{}, errors.Join(errs...)
	}
	switch {
	case podLevelResources(pod):
		if err := withinPodBudget(&out, pod.Spec.Resources, by); err != nil {
			return corev1.ResourceRequirements{}, err
		}
	case PodQOS(pod) == corev1.PodQOSGuaranteed:
		preferSpecificRequests(&out, by)
	}
	return out, nil
}

// withinPodBudget fits the sidecar into a pod with pod-level resources (spec.resources),
// which the API server holds its containers to: no container's limit above the pod's, and
// the containers' requests together within the pod's. For each of CPU and memory the pod
// sets, a value of the chart's (osm.sidecar.resources) is dropped: the sidecar then shares
// the pod's budget, which is what pod-level resources are for, instead of a chart-wide value
// that could exceed what this pod declares and get it refused. A value a proxy annotation
// set is kept, and refused here by name when it exceeds the pod's own value for it. With by
// nil (osm-init, which no annotation sizes) every such value is dropped and nothing refused.
func withinPodBudget(r *corev1.ResourceRequirements, pod *corev1.ResourceRequirements, by map[resourceAnnotation]setBy) error {
	var errs []error
	for _, ra := range resourceAnnotations {
		podList, list := pod.Requests, r.Requests
		if ra.limit {
			podList, list = pod.Limits, r.Limits
		}
		_, podSetsLimit := pod.Limits[ra.name]
		_, podSetsRequest := pod.Requests[ra.name]
		if !podSetsLimit && !podSetsRequest {
			continue
		}
		q, ok := list[ra.name]
		if !ok {
			continue
		}
		b, annotated := by[ra]
		if !annotated {
			delete(list, ra.name)
			continue
		}
		bound, ok := podList[ra.name]
		if !ok && !ra.limit {
			bound, ok = pod.Limits[ra.name] // a pod-level limit alone is also its request
		}
		if ok && q.Cmp(bound) > 0 {
			errs = append(errs, &bootstrap.FieldError{Source: b.source, Field: b.key, Value: b.value,
				Accepted: fmt.Sprintf("must not exceed the pod-level %s %s (spec.resources), which every container shares", ra.name, bound.String())})
		}
	}
	return errors.Join(errs...)
}

// preferSpecificRequests drops, in a Guaranteed pod, each CPU or memory limit that a request
// annotation set more specifically than it (the pod's request over the chart's or the
// namespace's limit; the namespace's over the chart's): guaranteedResources then sets the
// container to that request, the value its author chose for this pod, rather than to a
// limit chosen for every pod. Without it the annotation would be silently overridden.
func preferSpecificRequests(r *corev1.ResourceRequirements, by map[resourceAnnotation]setBy) {
	for i := 0; i < len(resourceAnnotations); i += 2 {
		request, limit := resourceAnnotations[i], resourceAnnotations[i+1]
		if by[request].layer > by[limit].layer {
			delete(r.Limits, request.name)
		}
	}
}

// parseProxyQuantity reads a proxy resource annotation's value: a positive quantity, in whole
// bytes for memory. 512m of memory is 0.512 bytes, never what its author meant (512Mi), and
// Kubernetes would round it up to 1 byte.
func parseProxyQuantity(name corev1.ResourceName, v string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(v))
	if err != nil {
		return resource.Quantity{}, err
	}
	if q.Sign() <= 0 {
		return resource.Quantity{}, errors.New("not positive")
	}
	if name == corev1.ResourceMemory && q.MilliValue()%1000 != 0 {
		return resource.Quantity{}, errors.New("a fraction of a byte")
	}
	return q, nil
}

// requestWithinLimit refuses a merged request above its limit (req and lim are the request
// and limit annotations of one resource). It names the annotation of the most specific layer
// that set either (the pod's before the namespace's, the request when one layer set both);
// when no annotation set either, the proxy config is the chart's, which osm-injector checked
// at startup, and nothing is reported.
func requestWithinLimit(r corev1.ResourceRequirements, req, lim resourceAnnotation, by map[resourceAnnotation]setBy) error {
	request, hasReq := r.Requests[req.name]
	limit, hasLim := r.Limits[lim.name]
	if !hasReq || !hasLim || request.Cmp(limit) <= 0 {
		return nil
	}
	reqBy, reqSet := by[req]
	limBy, limSet := by[lim]
	from := func(b setBy, set bool) string {
		if !set {
			return sourceProxyConfig
		}
		return b.source + " " + b.key
	}
	switch {
	case !reqSet && !limSet:
		return nil
	case reqSet && (!limSet || reqBy.source == bootstrap.SourcePod || limBy.source != bootstrap.SourcePod):
		return &bootstrap.FieldError{Source: reqBy.source, Field: req.key, Value: reqBy.value,
			Accepted: "must not exceed the " + string(req.name) + " limit " + limit.String() + " (from " + from(limBy, limSet) +
				"); set " + lim.key + " too, or lower the request"}
	default:
		return &bootstrap.FieldError{Source: limBy.source, Field: lim.key, Value: limBy.value,
			Accepted: "must be at least the " + string(req.name) + " request " + request.String() + " (from " + from(reqBy, reqSet) +
				"); set " + req.key + " too, or raise the limit"}
	}
}

// Default resources of the injected containers in a Guaranteed pod, for a resource the proxy
// config sets neither a request nor a limit of: the built-in defaults' value of it
// (DefaultProxyConfig, the limit if set, else the request).
var (
	guaranteedEnvoyDefaults = guaranteedValues(DefaultProxyConfig().Resources, nil)
	guaranteedInitDefaults  = guaranteedValues(DefaultProxyConfig().InitResources, nil)
)

// guaranteedResources returns r with, for CPU and memory, the request and the limit both set
// to one value: r's limit if it has one, else its request, else defaults'. Other resources
// (ephemeral storage) are kept as they are: the QoS class looks at CPU and memory only.
//
// The limit first: it is what the operator allows the container at most, and a request raised
// to it never lets the container use more than it could. The request alone, when there is no
// limit (the default for Envoy's CPU, which has none so that throttling never adds latency),
// is the value the operator sized the sidecar with; Guaranteed needs a limit, so the sidecar
// is then throttled at that request. Size Envoy's CPU for a Guaranteed workload with the
// annotation openservicemesh.io/proxy-cpu-limit (or -request).
func guaranteedResources(r corev1.ResourceRequirements, defaults corev1.ResourceList) corev1.ResourceRequirements {
	out := *r.DeepCopy()
	values := guaranteedValues(r, defaults)
	if out.Requests == nil {
		out.Requests = corev1.ResourceList{}
	}
	if out.Limits == nil {
		out.Limits = corev1.ResourceList{}
	}
	for name, q := range values {
		out.Requests[name] = q.DeepCopy()
		out.Limits[name] = q.DeepCopy()
	}
	return out
}

// guaranteedValues is, for CPU and memory, r's limit, else its request, else defaults' (none
// when defaults has none either).
func guaranteedValues(r corev1.ResourceRequirements, defaults corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := r.Limits[name]; ok && q.Sign() > 0 {
			out[name] = q.DeepCopy()
		} else if q, ok := r.Requests[name]; ok && q.Sign() > 0 {
			out[name] = q.DeepCopy()
		} else if q, ok := defaults[name]; ok {
			out[name] = q.DeepCopy()
		}
	}
	return out
}

// PodQOS is the QoS class Kubernetes gives pod: Kubernetes' own rule (k8s.io/kubernetes
// pkg/apis/core/v1/helper/qos ComputePodQOS, which this module cannot import), over the pod
// as the API server stores it: a request missing where a limit is set is the limit, as the
// API server's defaulting makes it (so a pod of `osm inject`, not defaulted yet, gets its
// class too).
//
//   - With pod-level resources (spec.resources setting CPU or memory), the class is that of
//     the pod-level requirements.
//   - Otherwise each container's, init containers and native sidecars included: BestEffort
//     when it sets no CPU or memory, Guaranteed when it sets CPU and memory limits equal to
//     their requests, Burstable otherwise; the pod is Guaranteed or BestEffort when all its
//     containers are, Burstable otherwise.
func PodQOS(pod *corev1.Pod) corev1.PodQOSClass {
	if pod == nil {
		return corev1.PodQOSBestEffort
	}
	if podLevelResources(pod) {
		return requirementsQOS(pod.Spec.Resources)
	}
	var qos corev1.PodQOSClass
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			c := requirementsQOS(&cs[i].Resources)
			switch {
			case c == corev1.PodQOSBurstable:
				return c
			case qos == "":
				qos = c
			case qos != c:
				return corev1.PodQOSBurstable
			}
		}
	}
	if qos == "" {
		return corev1.PodQOSBestEffort
	}
	return qos
}

// podLevelResources reports a pod whose spec.resources sets CPU or memory: its QoS class is
// that of those requirements alone.
func podLevelResources(pod *corev1.Pod) bool {
	return pod.Spec.Resources != nil && setsQOSResources(pod.Spec.Resources)
}

// setsQOSResources reports requirements that set a CPU or memory request or limit.
func setsQOSResources(r *corev1.ResourceRequirements) bool {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := r.Requests[name]; ok {
			return true
		}
		if _, ok := r.Limits[name]; ok {
			return true
		}
	}
	return false
}

// requirementsQOS is the class of one set of requirements (Kubernetes' requirementsQOS).
func requirementsQOS(r *corev1.ResourceRequirements) corev1.PodQOSClass {
	var qos corev1.PodQOSClass
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim := r.Limits[name]
		if !hasReq {
			req = lim // the API server's defaulting
		}
		var c corev1.PodQOSClass
		switch {
		case !req.Equal(lim):
			return corev1.PodQOSBurstable
		case req.IsZero():
			c = corev1.PodQOSBestEffort
		default:
			c = corev1.PodQOSGuaranteed
		}
		if qos == "" {
			qos = c
		} else if qos != c {
			return corev1.PodQOSBurstable
		}
	}
	return qos
}
