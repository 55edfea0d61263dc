package bootstrap

import (
	"errors"
	"slices"
	"strings"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// Input is everything Resolve reads.
type Input struct {
	// Defaults is the lowest layer (chart/injector defaults).
	Defaults Tracing
	// Mesh is the MeshConfig's spec.observability; nil when there is no MeshConfig.
	Mesh *v1alpha2.ObservabilitySpec
	// NamespaceName is the pod's namespace (used in error messages).
	NamespaceName string
	// NamespaceAnnotations and PodAnnotations are the override layers.
	NamespaceAnnotations map[string]string
	PodAnnotations       map[string]string
	// Owner is the owning workload; PodLabels and PodName feed the service-name fallbacks.
	Owner     Workload
	PodLabels map[string]string
	PodName   string
}

// Resolve returns the effective settings: defaults < MeshConfig < namespace annotations <
// pod annotations. A MeshConfig field left unset keeps the default. The server-first ports
// add up instead: DefaultServerFirstPorts, then the namespace's and the pod's
// AnnotationServerFirstPorts (a port is server-first whoever says so). Every malformed value
// is reported (errors joined, MeshConfig first, then the namespace's annotations, then the
// pod's, each in the order of the contract's table), each a *FieldError naming the field or
// annotation, the value and the accepted form. Use FieldErrors to take them apart.
//
// The service name is the service-name annotation (pod, then namespace), else the owning
// workload's name, the label app.kubernetes.io/name, the label app, or the pod's name
// (a generateName prefix works too), each turned into a DNS-1123 label. An annotated name is
// validated, never rewritten.
//
// Resolve is pure and safe for concurrent use.
func Resolve(in Input) (Settings, error) {
	t, set, errs := meshTracing(in.Defaults, in.Mesh, nil)
	var service string
	var serverFirst []uint32
	errs = overlayAnnotations(&t, &set, &service, &serverFirst, layer{namespace: in.NamespaceName}, in.NamespaceAnnotations, errs)
	errs = overlayAnnotations(&t, &set, &service, &serverFirst, layer{pod: true}, in.PodAnnotations, errs)
	t, errs = finishTracing(t, set, errs)
	if len(errs) > 0 {
		return Settings{}, errors.Join(errs...)
	}
	if service == "" {
		service = derivedServiceName(in.Owner, in.PodLabels, in.PodName)
	}
	// The workload's tag names an object, so its name is a DNS subdomain; an owner reference
	// is not validated that far by the API server, and a hand-written one that is not (a
	// Deployment "Bad_Name") gives no tag rather than a bootstrap the generator refuses.
	var workload Workload
	if WorkloadTag(in.Owner) != "" && isDNSSubdomain(in.Owner.Name) {
		workload = in.Owner
	}
	return Settings{Tracing: t, ServiceName: service, Workload: workload, ServerFirstPorts: extraServerFirst(serverFirst)}, nil
}

// extraServerFirst is the canonical list of the ports that are not DefaultServerFirstPorts.
func extraServerFirst(ports []uint32) string {
	if len(ports) == 0 {
		return "" // the common case costs nothing
	}
	defaults := defaultServerFirst()
	ports = slices.DeleteFunc(ports, func(p uint32) bool { return slices.Contains(defaults, p) })
	return canonicalPorts(ports)
}

// MeshTracing overlays a MeshConfig's observability spec (tracing and access log) on
// defaults and validates it: a field left unset (nil, or an empty string) keeps the default.
// A malformed field is reported as a *FieldError with source "MeshConfig" and the field's
// path, e.g. spec.observability.tracing.port; all of them, joined, in the spec's field order.
func MeshTracing(defaults Tracing, spec *v1alpha2.ObservabilitySpec) (Tracing, error) {
	t, set, errs := meshTracing(defaults, spec, nil)
	t, errs = finishTracing(t, set, errs)
	if len(errs) > 0 {
		return defaults, errors.Join(errs...)
	}
	return t, nil
}

// setBy remembers what the layers above the defaults set, for the rules that depend on the
// final protocol: the port defaults by protocol only when no layer sets it, and an endpoint
// other than the default is refused with OpenTelemetry, reported where it was last set.
type setBy struct {
	port bool
	// endpointSource and endpointField name the layer and field or annotation that last set
	// the endpoint; empty while it is the defaults'.
	endpointSource, endpointField string
}

// finishTracing applies the rules of the final protocol to t: an empty protocol is Zipkin;
// with OpenTelemetry the port defaults to DefaultOTLPPort when no layer set it, an endpoint
// other than DefaultEndpoint is an error (OTLP/gRPC has no endpoint to choose), and the
// endpoint is cleared, so that settings differing only in an unused endpoint compare equal.
func finishTracing(t Tracing, set setBy, errs []error) (Tracing, []error) {
	if t.Protocol == "" {
		t.Protocol = ProtocolZipkin
	}
	if t.Protocol != ProtocolOpenTelemetry {
		return t, errs
	}
	if !set.port {
		t.Port = DefaultOTLPPort
	}
	if t.Endpoint != DefaultEndpoint && t.Endpoint != "" && set.endpointSource != "" {
		errs = append(errs, &FieldError{Source: set.endpointSource, Field: set.endpointField, Value: t.Endpoint, Accepted: acceptedEndpointOTLP})
	}
	t.Endpoint = ""
	return t, errs
}

// meshTracing is MeshTracing appending to errs, so Resolve reports every layer at once; it
// leaves the protocol's rules to finishTracing.
func meshTracing(defaults Tracing, obs *v1alpha2.ObservabilitySpec, errs []error) (Tracing, setBy, []error) {
	t := defaults
	var set setBy
	if obs == nil {
		return t, set, errs
	}
	if obs.AccessLog.Enable != nil {
		t.AccessLog = *obs.AccessLog.Enable
	}
	spec := &obs.Tracing
	if spec.Enable != nil {
		t.Enable = *spec.Enable
	}
	if spec.Protocol != "" {
		if validProtocol(spec.Protocol) {
			t.Protocol = spec.Protocol
		} else {
			errs = append(errs, meshError("protocol", spec.Protocol, acceptedProtocol))
		}
	}
	if spec.Address != "" {
		if validAddress(spec.Address) {
			t.Address = spec.Address
		} else {
			errs = append(errs, meshError("address", spec.Address, acceptedAddress))
		}
	}
	if spec.Port != nil {
		if p := *spec.Port; validPort(int64(p)) {
			t.Port = uint32(p) //nolint:gosec // G115: validPort bounds it to 1..65535
			set.port = true
		} else {
			errs = append(errs, meshError("port", formatInt(int64(p)), acceptedPort))
		}
	}
	if spec.Endpoint != "" {
		if validEndpoint(spec.Endpoint) {
			t.Endpoint = spec.Endpoint
			set.endpointSource, set.endpointField = SourceMeshConfig, meshTracingPath+"endpoint"
		} else {
			errs = append(errs, meshError("endpoint", spec.Endpoint, acceptedEndpoint))
		}
	}
	if spec.Sampling != nil {
		if s := *spec.Sampling; validSampling(s) {
			t.Sampling = s
		} else {
			errs = append(errs, meshError("sampling", formatFloat(s), acceptedSampling))
		}
	}
	if spec.Propagation != "" {
		if validPropagation(spec.Propagation) {
			t.Propagation = spec.Propagation
		} else {
			errs = append(errs, meshError("propagation", spec.Propagation, acceptedPropagation))
		}
	}
	if len(spec.Tags) > 0 {
		if tags, ok := meshTags(t.Tags, spec.Tags); ok {
			t.Tags = tags
		} else {
			errs = append(errs, meshError("tags", formatTags(spec.Tags), acceptedMeshTag))
		}
	}
	if spec.MaxPathTagLength != nil {
		if n := *spec.MaxPathTagLength; validMaxPathTagLength(int64(n)) {
			t.MaxPathTagLength = uint32(n) //nolint:gosec // G115: bounded to 1..65536
		} else {
			errs = append(errs, meshError("maxPathTagLength", formatInt(int64(n)), acceptedMaxPathTagLength))
		}
	}
	if n := spec.SpanNames; n != nil {
		for _, side := range []struct {
			field, value string
			to           *string
		}{{"inbound", n.Inbound, &t.InboundSpanName}, {"outbound", n.Outbound, &t.OutboundSpanName}} {
			switch {
			case side.value == "":
			case validSpanName(side.value):
				*side.to = side.value
			default:
				errs = append(errs, meshError("spanNames."+side.field, side.value, acceptedSpanName))
			}
		}
	}
	return t, set, errs
}

// layer is the source of a set of annotations: a pod's, or namespace's. Its String is
// only built when there is an error to report.
type layer struct {
	pod       bool
	namespace string
}

// String is the FieldError.Source of the layer's errors.
func (l layer) String() string {
	if l.pod {
		return SourcePod
	}
	return NamespaceSource(l.namespace)
}

// overlayAnnotations applies the tracing annotations of one layer (a namespace's or a pod's)
// on t and service, adds its server-first ports to serverFirst, and appends an error for
// every malformed value and every unknown tracing.openservicemesh.io/ key (keys under
// openservicemesh.io/ are the injector's; only the server-first one is read here). Known
// keys are read in the contract's order and unknown ones sorted, so the errors come out in a
// stable order.
func overlayAnnotations(t *Tracing, set *setBy, service *string, serverFirst *[]uint32, source layer, ann map[string]string, errs []error) []error {
	if len(ann) == 0 {
		return errs
	}
	if v, ok := ann[AnnotationEnable]; ok {
		if b, ok := parseEnable(v); ok {
			t.Enable = b
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationEnable, v, acceptedEnable))
		}
	}
	if v, ok := ann[AnnotationProtocol]; ok {
		if validProtocol(v) {
			t.Protocol = v
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationProtocol, v, acceptedProtocol))
		}
	}
	if v, ok := ann[AnnotationAddress]; ok {
		if validAddress(v) {
			t.Address = v
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationAddress, v, acceptedAddress))
		}
	}
	if v, ok := ann[AnnotationPort]; ok {
		if p, ok := parsePort(v); ok {
			t.Port = p
			set.port = true
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationPort, v, acceptedPort))
		}
	}
	if v, ok := ann[AnnotationEndpoint]; ok {
		if validEndpoint(v) {
			t.Endpoint = v
			set.endpointSource, set.endpointField = source.String(), AnnotationEndpoint
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationEndpoint, v, acceptedEndpoint))
		}
	}
	if v, ok := ann[AnnotationSampling]; ok {
		if s, ok := parseSampling(v); ok {
			t.Sampling = s
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationSampling, v, acceptedSampling))
		}
	}
	if v, ok := ann[AnnotationServiceName]; ok {
		if validServiceName(v) {
			*service = v
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationServiceName, v, acceptedServiceName))
		}
	}
	if v, ok := ann[AnnotationPropagation]; ok {
		if validPropagation(v) {
			t.Propagation = v
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationPropagation, v, acceptedPropagation))
		}
	}
	if v, ok := ann[AnnotationTags]; ok {
		if tags, ok := annotationTags(t.Tags, v); ok {
			t.Tags = tags
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationTags, v, acceptedTags))
		}
	}
	if v, ok := ann[AnnotationAccessLog]; ok {
		if b, ok := parseEnable(v); ok {
			t.AccessLog = b
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationAccessLog, v, acceptedEnable))
		}
	}
	if v, ok := ann[AnnotationServerFirstPorts]; ok {
		if ports, ok := parsePortList(v); ok {
			*serverFirst = append(*serverFirst, ports...)
		} else {
			errs = append(errs, annotationError(source.String(), AnnotationServerFirstPorts, v, acceptedPortList))
		}
	}
	return appendUnknownAnnotations(source, ann, errs)
}

// KnownAnnotations are the tracing override annotations, in the contract's order.
var KnownAnnotations = []string{
	AnnotationEnable,
	AnnotationProtocol,
	AnnotationAddress,
	AnnotationPort,
	AnnotationEndpoint,
	AnnotationSampling,
	AnnotationServiceName,
	AnnotationPropagation,
	AnnotationTags,
}

// isKnownAnnotation reports keys under AnnotationPrefix that Resolve accepts: the overrides
// and the two the project itself writes or reads elsewhere.
func isKnownAnnotation(key string) bool {
	switch key {
	case AnnotationEnable, AnnotationProtocol, AnnotationAddress, AnnotationPort, AnnotationEndpoint,
		AnnotationSampling, AnnotationServiceName, AnnotationPropagation, AnnotationTags, AnnotationAutoRebootstrap,
		BootstrapHashKey:
		return true
	}
	return false
}

// appendUnknownAnnotations reports every key under AnnotationPrefix that is not known, sorted,
// so a typo such as tracing.openservicemesh.io/addr is not silently ignored.
func appendUnknownAnnotations(source layer, ann map[string]string, errs []error) []error {
	var unknown []string
	for k := range ann {
		if strings.HasPrefix(k, AnnotationPrefix) && !isKnownAnnotation(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return errs
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		errs = append(errs, unknownAnnotationError(source.String(), k))
	}
	return errs
}
