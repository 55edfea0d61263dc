package inject

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// Traffic annotations, on a pod or on its namespace, with Open Service Mesh v1.2's names.
const (
	AnnotationOutboundPortExclusions = "openservicemesh.io/outbound-port-exclusion-list"
	AnnotationInboundPortExclusions  = "openservicemesh.io/inbound-port-exclusion-list"
	AnnotationOutboundIPExclusions   = "openservicemesh.io/outbound-ip-range-exclusion-list"
	AnnotationOutboundIPInclusions   = "openservicemesh.io/outbound-ip-range-inclusion-list"
	AnnotationProxyConcurrency       = "openservicemesh.io/proxy-concurrency"
)

// Proxy resource annotations, on a pod or on its namespace (the pod's wins, key by key): the
// envoy container's CPU and memory requests and limits, over the chart's
// osm.sidecar.resources (--envoy-resources). Linkerd's names (config.linkerd.io/proxy-cpu-request
// and the rest) under Open Service Mesh's prefix; Istio's are sidecar.istio.io/proxyCPU and
// the rest. See ResolveResources.
const (
	AnnotationProxyCPURequest    = "openservicemesh.io/proxy-cpu-request"
	AnnotationProxyCPULimit      = "openservicemesh.io/proxy-cpu-limit"
	AnnotationProxyMemoryRequest = "openservicemesh.io/proxy-memory-request"
	AnnotationProxyMemoryLimit   = "openservicemesh.io/proxy-memory-limit"
)

// The accepted forms, as error messages state them.
const (
	acceptedPortList    = "must be a comma-separated list of ports, each an integer from 1 to 65535 (such as 3306,6379)"
	acceptedCIDRList    = "must be a comma-separated list of CIDRs, IPv4 or IPv6 (such as 10.0.0.0/8,fd00::/8)"
	acceptedConcurrency = "must be an integer from 1 to 64 (Envoy worker threads)"
)

// Bounds of Envoy's worker threads. More than 64 in one sidecar is a mistake, not a need.
const (
	DefaultConcurrency = 2
	maxConcurrency     = 64
)

// Traffic is what a pod's redirect and Envoy's command line are built from: ports and
// address ranges kept out of the redirect, and Envoy's worker threads. The lists are sorted
// and without repeats, so equal settings give byte-equal init containers.
type Traffic struct {
	// OutboundPortExclusions are destination ports the pod reaches directly.
	OutboundPortExclusions []uint16
	// InboundPortExclusions are the pod's ports reached directly, without Envoy: the
	// annotation's, and the ports of tcpSocket probes (see ProbePortExclusions).
	InboundPortExclusions []uint16
	// OutboundIPExclusions are destination ranges the pod reaches directly.
	OutboundIPExclusions []netip.Prefix
	// OutboundIPInclusions, when not empty, are the only destination ranges redirected.
	OutboundIPInclusions []netip.Prefix
	// Concurrency is Envoy's --concurrency.
	Concurrency int
}

// Redirect is t's redirect, osm-init's command line: Envoy's capture ports and uid, and t's
// exclusions and inclusions.
func (t Traffic) Redirect() redirect.Spec {
	s := redirect.Default()
	s.InboundPortExclusions = t.InboundPortExclusions
	s.OutboundPortExclusions = t.OutboundPortExclusions
	s.OutboundIPExclusions = t.OutboundIPExclusions
	s.OutboundIPInclusions = t.OutboundIPInclusions
	return s
}

// ResolveTraffic returns pod's Traffic in namespace ns: the mesh-wide lists of the proxy
// config, then the namespace's annotations, then the pod's. The lists add up (an exclusion
// made mesh-wide or for a namespace cannot be undone by a pod: it is usually there because
// redirecting that traffic breaks something); the concurrency is the pod's, else the
// namespace's, else the proxy config's. Every malformed value is reported, joined, as a
// *bootstrap.FieldError naming the annotation, the value and the accepted form.
func ResolveTraffic(pod *corev1.Pod, ns Namespace, proxy ProxyConfig) (Traffic, error) {
	proxy = proxy.withDefaults()
	t := Traffic{
		OutboundPortExclusions: slices.Clone(proxy.OutboundPortExclusions),
		InboundPortExclusions:  slices.Clone(proxy.InboundPortExclusions),
		OutboundIPExclusions:   slices.Clone(proxy.OutboundIPExclusions),
		OutboundIPInclusions:   slices.Clone(proxy.OutboundIPInclusions),
		Concurrency:            proxy.Concurrency,
	}
	var errs []error
	for _, l := range annotationLayers(pod, ns) {
		errs = t.overlay(l.source, l.ann, errs)
	}
	if len(errs) > 0 {
		return Traffic{}, errors.Join(errs...)
	}
	t.InboundPortExclusions = append(t.InboundPortExclusions, ProbePortExclusions(&pod.Spec)...)
	t.normalize()
	return t, nil
}

// overlay reads one layer's annotations into t, appending what is malformed to errs.
func (t *Traffic) overlay(source string, ann map[string]string, errs []error) []error {
	ports := func(key string, into *[]uint16) {
		v, ok := ann[key]
		if !ok {
			return
		}
		got, err := ParsePortList(v)
		if err != nil {
			errs = append(errs, &bootstrap.FieldError{Source: source, Field: key, Value: v, Accepted: acceptedPortList})
			return
		}
		*into = append(*into, got...)
	}
	cidrs := func(key string, into *[]netip.Prefix) {
		v, ok := ann[key]
		if !ok {
			return
		}
		got, err := ParseCIDRList(v)
		if err != nil {
			errs = append(errs, &bootstrap.FieldError{Source: source, Field: key, Value: v, Accepted: acceptedCIDRList})
			return
		}
		*into = append(*into, got...)
	}
	ports(AnnotationOutboundPortExclusions, &t.OutboundPortExclusions)
	ports(AnnotationInboundPortExclusions, &t.InboundPortExclusions)
	cidrs(AnnotationOutboundIPExclusions, &t.OutboundIPExclusions)
	cidrs(AnnotationOutboundIPInclusions, &t.OutboundIPInclusions)
	if v, ok := ann[AnnotationProxyConcurrency]; ok {
		n, err := ParseConcurrency(v)
		if err != nil {
			errs = append(errs, &bootstrap.FieldError{Source: source, Field: AnnotationProxyConcurrency, Value: v, Accepted: acceptedConcurrency})
		} else {
			t.Concurrency = n
		}
	}
	return appendNearMisses(source, ann, errs)
}

// meshAnnotations are the openservicemesh.io/ annotations this injector reads.
var meshAnnotations = []string{
	AnnotationOutboundPortExclusions, AnnotationInboundPortExclusions, AnnotationOutboundIPExclusions,
	AnnotationOutboundIPInclusions, AnnotationProxyConcurrency, bootstrap.AnnotationServerFirstPorts,
	bootstrap.AnnotationAccessLog, bootstrap.InjectionAnnotation,
	AnnotationProxyCPURequest, AnnotationProxyCPULimit, AnnotationProxyMemoryRequest, AnnotationProxyMemoryLimit,
}

// meshAnnotationPrefix is the prefix of Open Service Mesh's annotations.
const meshAnnotationPrefix = "openservicemesh.io/"

// appendNearMisses reports, sorted, each openservicemesh.io/ annotation that is not one we
// read but nearly spells one (outbound-ip-range-exclusion-lists): silently ignored, it would
// leave traffic redirected that its author meant to keep out. Other keys under the prefix are
// left alone: Open Service Mesh has annotations of its own (openservicemesh.io/metrics) that
// a pod may carry for it.
func appendNearMisses(source string, ann map[string]string, errs []error) []error {
	var near []*bootstrap.FieldError
	for k, v := range ann {
		if !strings.HasPrefix(k, meshAnnotationPrefix) {
			continue
		}
		if guess := bootstrap.DidYouMean(k, meshAnnotations); guess != "" {
			near = append(near, &bootstrap.FieldError{Source: source, Field: k, Value: v,
				Accepted: "no such annotation; did you mean " + guess + "?"})
		}
	}
	slices.SortFunc(near, func(a, b *bootstrap.FieldError) int { return strings.Compare(a.Field, b.Field) })
	for _, fe := range near {
		errs = append(errs, fe)
	}
	return errs
}

// normalize sorts the lists and drops repeats.
func (t *Traffic) normalize() {
	for _, l := range []*[]uint16{&t.OutboundPortExclusions, &t.InboundPortExclusions} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
		if len(*l) == 0 {
			*l = nil
		}
	}
	for _, l := range []*[]netip.Prefix{&t.OutboundIPExclusions, &t.OutboundIPInclusions} {
		slices.SortFunc(*l, comparePrefix)
		*l = slices.Compact(*l)
		if len(*l) == 0 {
			*l = nil
		}
	}
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// ParsePortList reads "p1,p2,..." (spaces around items allowed, empty items not): each an
// integer from 1 to 65535. An empty string is an empty list.
func ParsePortList(s string) ([]uint16, error) {
	var out []uint16
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		n, err := strconv.ParseUint(item, 10, 16)
		if err != nil || n == 0 {
			return nil, errors.New(acceptedPortList)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

// ParseCIDRList reads "cidr1,cidr2,..." (spaces around items allowed): each an IPv4 or IPv6
// prefix in CIDR notation. The address is masked to the prefix (10.1.2.3/8 is 10.0.0.0/8);
// an IPv4-mapped IPv6 prefix is refused, since no redirect rule could mean it. An empty string
// is an empty list.
func ParseCIDRList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for item := range strings.SplitSeq(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(item))
		if err != nil || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			return nil, errors.New(acceptedCIDRList)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ParseConcurrency reads Envoy's worker thread count, 1 to 64.
func ParseConcurrency(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > maxConcurrency {
		return 0, errors.New(acceptedConcurrency)
	}
	return n, nil
}

// ProbePortExclusions are the ports of the app containers' tcpSocket probes. Such a probe only
// asks whether a connection opens; Envoy's inbound listener accepts every redirected
// connection whether the app listens or not, so through the redirect the probe could never
// fail (osm#4434, istio#15178). Istio rewrites these probes into HTTP probes its agent answers
// by dialling the app; there is no agent here, so the port is left out of the inbound
// redirect instead and the kubelet reaches the app itself. The cost: inbound connections to
// that port are not traced by this pod's Envoy (the caller's Envoy still traces them). A named
// port is looked up in the probe's container; a name that no port has is left alone (the
// kubelet fails such a probe anyway).
func ProbePortExclusions(spec *corev1.PodSpec) []uint16 {
	var out []uint16
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			c := &cs[i]
			if c.Name == EnvoyContainerName || c.Name == InitContainerName {
				continue
			}
			for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
				if p == nil || p.TCPSocket == nil {
					continue
				}
				if port := containerPort(c, p.TCPSocket.Port.IntValue(), p.TCPSocket.Port.StrVal); port > 0 {
					out = append(out, port)
				}
			}
		}
	}
	return out
}

// containerPort is number when it is a valid port, else the number of c's port named name.
func containerPort(c *corev1.Container, number int, name string) uint16 {
	if number > 0 && number <= 65535 {
		return uint16(number)
	}
	for _, p := range c.Ports {
		if name != "" && p.Name == name && p.ContainerPort > 0 && p.ContainerPort <= 65535 {
			return uint16(p.ContainerPort)
		}
	}
	return 0
}

// annotationLayer is the annotations of one layer over the chart's defaults, and the
// FieldError source of its errors.
type annotationLayer struct {
	source string
	ann    map[string]string
}

// annotationLayers are the namespace's annotations, then the pod's, which win.
func annotationLayers(pod *corev1.Pod, ns Namespace) []annotationLayer {
	return []annotationLayer{
		{bootstrap.NamespaceSource(namespaceOf(pod, ns)), ns.Annotations},
		{bootstrap.SourcePod, pod.Annotations},
	}
}
