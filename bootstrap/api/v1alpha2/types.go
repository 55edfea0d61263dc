package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MeshConfig holds the mesh-wide settings of osm-tracing. The injector follows the instance
// named osm-mesh-config in the control-plane namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=meshconf
// +kubebuilder:printcolumn:name="Tracing",type=boolean,JSONPath=`.spec.observability.tracing.enable`
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.observability.tracing.address`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.observability.tracing.port`
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.observability.tracing.endpoint`
// +kubebuilder:printcolumn:name="Protocol",type=string,JSONPath=`.spec.observability.tracing.protocol`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MeshConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the mesh-wide settings.
	// +optional
	Spec MeshConfigSpec `json:"spec,omitempty"`

	// Status reports what the injector made of the spec.
	// +optional
	Status MeshConfigStatus `json:"status,omitempty"`
}

// MeshConfigSpec holds the mesh-wide settings.
type MeshConfigSpec struct {
	// Observability holds the settings of tracing.
	// +optional
	Observability ObservabilitySpec `json:"observability,omitempty"`

	// Rebootstrap tunes the rolling re-bootstrap of the injected workloads.
	// +optional
	Rebootstrap RebootstrapSpec `json:"rebootstrap,omitempty"`
}

// RebootstrapSpec tunes the rolling re-bootstrap of the injected workloads.
type RebootstrapSpec struct {
	// OnUpgrade rolls the outdated workloads too: those whose pods run their target's tracing
	// settings in a bootstrap another osm-injector version rendered (after an upgrade of the
	// injector), with the same bound and health gate as a settings change. Default false:
	// they are only counted in status.rebootstrap.outdated (roll them on demand with
	// osm proxy rollout --outdated).
	// +optional
	OnUpgrade bool `json:"onUpgrade,omitempty"`
}

// ObservabilitySpec groups the observability settings.
type ObservabilitySpec struct {
	// Tracing configures the tracer of every injected Envoy.
	// +optional
	Tracing TracingSpec `json:"tracing,omitempty"`

	// AccessLog configures the access log of every injected Envoy.
	// +optional
	AccessLog AccessLogSpec `json:"accessLog,omitempty"`
}

// AccessLogSpec configures Envoy's access log: one line per HTTP exchange and per TCP
// connection on the envoy container's standard output, with the response flags (UF, UC, UO,
// ...) and the trace id. The annotation openservicemesh.io/access-log ("true" or "false") on
// a namespace or a pod overrides it.
type AccessLogSpec struct {
	// Enable turns the access log on. Default false.
	// +optional
	Enable *bool `json:"enable,omitempty"`
}

// TracingSpec configures the Zipkin tracer of every injected Envoy. A field left unset takes
// the injector's default.
//
// The API server refuses bad values itself (OpenAPI bounds and CEL rules below), with a
// message that names the field. Strings carry a maxLength so that the CEL rules have a bounded
// cost, which the API server requires before it accepts the CRD. The injector applies the same
// rules to these fields and to the tracing annotations (bootstrap/resolve_values.go);
// manifests/tracing_fields_test.go evaluates the generated CRD against them.
//
// +kubebuilder:validation:XValidation:rule=`!has(self.endpoint) || self.endpoint == '/api/v2/spans' || !has(self.protocol) || self.protocol == 'zipkin'`,message="spec.observability.tracing.endpoint applies to protocol zipkin only; with protocol opentelemetry (OTLP over gRPC) leave it unset or /api/v2/spans",fieldPath=".endpoint"
type TracingSpec struct {
	// Enable turns tracing on for every injected Envoy. Default false.
	// +optional
	Enable *bool `json:"enable,omitempty"`

	// Protocol is what the sidecars speak to the collector: "zipkin" (Zipkin v2 JSON over
	// HTTP, Envoy's Zipkin tracer) or "opentelemetry" (OTLP over gRPC, Envoy's OpenTelemetry
	// tracer, which propagates W3C traceparent only). Default zipkin. The port defaults to
	// 9411 or 4317 accordingly; endpoint applies to zipkin only.
	// +optional
	// +kubebuilder:validation:Enum=zipkin;opentelemetry
	Protocol string `json:"protocol,omitempty"`

	// Address is the DNS name (RFC 1123 subdomain, lower case) or IP address of the Zipkin
	// collector. Default jaeger.<control-plane-namespace>.svc.cluster.local.
	// A name made only of digits and dots must be a valid IPv4 address; an IPv6 address has
	// no zone and is not IPv4-mapped (write 10.0.0.7, not ::ffff:10.0.0.7).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule=`isIP(self) || (!self.matches('^[0-9.]+$') && self.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?([.][a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$'))`,message="spec.observability.tracing.address must be a DNS name or an IP address",messageExpression=`"spec.observability.tracing.address must be a DNS name (a lower-case RFC 1123 subdomain such as jaeger.osm-system.svc.cluster.local) or an IP address, not '" + self + "'"`
	Address string `json:"address,omitempty"`

	// Port is the collector's port, 1 to 65535. Default 9411 with protocol zipkin, 4317 with
	// opentelemetry.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`

	// Endpoint is the HTTP path spans are posted to; it begins with '/' and holds no
	// whitespace. Default /api/v2/spans. Zipkin only.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule=`self.startsWith('/')`,message="spec.observability.tracing.endpoint must be an HTTP path beginning with '/'",messageExpression=`"spec.observability.tracing.endpoint must be an HTTP path beginning with '/' (such as /api/v2/spans), not '" + self + "'"`
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[!-~]*$') && !self.contains('#')`,message="spec.observability.tracing.endpoint must hold only visible ASCII characters: no whitespace, no '#'"
	Endpoint string `json:"endpoint,omitempty"`

	// Sampling is the percentage of new traces that are sampled, 0 to 100. Default 100.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	Sampling *float64 `json:"sampling,omitempty"`

	// Propagation is the trace context the sidecars read and write: "b3" (B3 headers only)
	// or "b3+w3c" (B3, else W3C traceparent, is read; both are written). Default b3+w3c.
	// +optional
	// +kubebuilder:validation:Enum=b3;b3+w3c
	Propagation string `json:"propagation,omitempty"`

	// Tags are extra span tags every traced request carries, each a literal value or the
	// value of a request header, in addition to k8s.pod.name, k8s.namespace.name,
	// k8s.node.name and the workload's tag, which cannot be redefined. At most 32, one per
	// tag name; the annotation tracing.openservicemesh.io/tags adds to them and overrides
	// them by name.
	// +optional
	// +listType=map
	// +listMapKey=tag
	// +kubebuilder:validation:MaxItems=32
	Tags []TracingTag `json:"tags,omitempty"`

	// MaxPathTagLength is the length at which Envoy truncates the http.url span tag, 1 to
	// 65536. Default Envoy's, 256.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65536
	MaxPathTagLength *int32 `json:"maxPathTagLength,omitempty"`

	// SpanNames are the names of the spans the sidecars report, as Envoy format strings.
	// Defaults: "%REQ(:METHOD)% :%DOWNSTREAM_LOCAL_PORT%" inbound (GET :8080) and
	// "%REQ(:METHOD)% %REQ(:AUTHORITY)%" outbound (GET bookstore.bookstore:14001).
	// +optional
	SpanNames *SpanNamesSpec `json:"spanNames,omitempty"`
}

// SpanNamesSpec names the spans of each side of the sidecar, as Envoy format strings
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#format-strings)
// limited to the commands %REQ(HEADER)% (optionally %REQ(HEADER?ALT)% and %REQ(HEADER):N%),
// %PROTOCOL%, %DOWNSTREAM_LOCAL_PORT% and %HOSTNAME%, which every supported Envoy knows: a
// command Envoy does not know would keep the sidecars from starting. Mind the cardinality: a
// name per request path (%REQ(:PATH)%) buries a backend's list of operations.
type SpanNamesSpec struct {
	// Inbound names the spans of requests the pod serves.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([ -$&-~]|%(REQ[(][-:0-9A-Za-z_.]+([?][-:0-9A-Za-z_.]+)?[)](:[1-9][0-9]{0,3})?|PROTOCOL|DOWNSTREAM_LOCAL_PORT|HOSTNAME)%)*$')`,message="spec.observability.tracing.spanNames.inbound must be visible ASCII text and the commands %REQ(HEADER)%, %REQ(HEADER):N%, %PROTOCOL%, %DOWNSTREAM_LOCAL_PORT% and %HOSTNAME%"
	Inbound string `json:"inbound,omitempty"`

	// Outbound names the spans of requests the pod makes.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`self.matches('^([ -$&-~]|%(REQ[(][-:0-9A-Za-z_.]+([?][-:0-9A-Za-z_.]+)?[)](:[1-9][0-9]{0,3})?|PROTOCOL|DOWNSTREAM_LOCAL_PORT|HOSTNAME)%)*$')`,message="spec.observability.tracing.spanNames.outbound must be visible ASCII text and the commands %REQ(HEADER)%, %REQ(HEADER):N%, %PROTOCOL%, %DOWNSTREAM_LOCAL_PORT% and %HOSTNAME%"
	Outbound string `json:"outbound,omitempty"`
}

// TracingTag is one extra span tag: a literal value, or the value of a request header.
// +kubebuilder:validation:XValidation:rule=`has(self.literal) != has(self.header)`,message="spec.observability.tracing.tags: each tag has exactly one of literal and header"
// +kubebuilder:validation:XValidation:rule=`!(self.tag in ['k8s.pod.name', 'k8s.namespace.name', 'k8s.node.name', 'k8s.deployment.name', 'k8s.replicaset.name', 'k8s.statefulset.name', 'k8s.daemonset.name', 'k8s.job.name', 'k8s.cronjob.name'])`,message="spec.observability.tracing.tags: k8s.pod.name, k8s.namespace.name, k8s.node.name and the workload tags (k8s.deployment.name, ...) are built in and cannot be redefined"
type TracingTag struct {
	// Tag is the span tag's name: letters, digits, '.', '_' or '-', at most 128.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._-]+$`
	Tag string `json:"tag"`

	// Literal is the tag's value: 1 to 256 visible ASCII characters and spaces, no ','. Not
	// empty: Envoy refuses an empty literal tag, and the bootstrap could not be built.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[ -+\--~]*$`
	Literal *string `json:"literal,omitempty"`

	// Header is the request header whose value the tag takes (absent header, no tag): an
	// HTTP header name, lower case, at most 128.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[a-z0-9!#$%&'*+.^_|~-]+$`
	Header *string `json:"header,omitempty"`
}

// MeshConfigStatus reports what the injector made of the spec and how far the re-bootstrap
// of the workloads has come.
type MeshConfigStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Valid, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Rebootstrap reports the rolling re-bootstrap of the injected workloads.
	// +optional
	Rebootstrap *RebootstrapStatus `json:"rebootstrap,omitempty"`
}

// RebootstrapStatus counts the injected workloads by where they stand against the target.
type RebootstrapStatus struct {
	// Target names the settings the workloads are being rolled to (a hash of the mesh-wide
	// tracing settings).
	// +optional
	Target string `json:"target,omitempty"`
	// Workloads is the number of injected workloads the controller follows.
	Workloads int32 `json:"workloads"`
	// Updated workloads run their target bootstrap.
	Updated int32 `json:"updated"`
	// Rolling workloads are being rolled now.
	Rolling int32 `json:"rolling"`
	// Pending workloads wait for a rollout slot.
	Pending int32 `json:"pending"`
	// Failed workloads' rollouts did not progress; they pause the rest.
	Failed int32 `json:"failed"`
	// Stale counts workloads that run an old bootstrap and are not rolled (opted out, or a
	// paused Deployment, or the OnDelete update strategy), and bare pods that run an old
	// bootstrap.
	Stale int32 `json:"stale"`
	// OptedOut counts the workloads annotated tracing.openservicemesh.io/auto-rebootstrap:
	// "false", whether they run their target bootstrap or not (those that do not are also
	// counted in Stale).
	// +optional
	OptedOut int32 `json:"optedOut,omitempty"`
	// Outdated counts the workloads and bare pods whose pods run their target's tracing
	// settings in a bootstrap another osm-injector version rendered (or that an injector
	// older than the settings-hash label admitted). They are rolled only when
	// spec.rebootstrap.onUpgrade is true or on demand (osm proxy rollout --outdated).
	// +optional
	Outdated int32 `json:"outdated,omitempty"`
	// Invalid counts the workloads whose tracing settings cannot be resolved (a malformed
	// annotation on the pod template or the namespace); they are never stamped.
	// +optional
	Invalid int32 `json:"invalid,omitempty"`
	// Uninjected counts the workloads and bare pods with live pods that run without the
	// sidecar (admitted while the webhook was down or did not match their namespace yet, with
	// failurePolicy Ignore). Such workloads are rolled once the webhook is ready, once per
	// generation, unless opted out or blocked by their update strategy; bare pods are only
	// reported.
	// +optional
	Uninjected int32 `json:"uninjected,omitempty"`
	// FailedWorkloads names the workloads whose rollout failed (kind/namespace/name).
	// +optional
	FailedWorkloads []string `json:"failedWorkloads,omitempty"`
	// StaleWorkloads names the workloads and bare pods counted in Stale (kind/namespace/name).
	// +optional
	StaleWorkloads []string `json:"staleWorkloads,omitempty"`
	// OutdatedWorkloads names the workloads and bare pods counted in Outdated
	// (kind/namespace/name).
	// +optional
	OutdatedWorkloads []string `json:"outdatedWorkloads,omitempty"`
	// InvalidWorkloads names the workloads counted in Invalid (kind/namespace/name).
	// +optional
	InvalidWorkloads []string `json:"invalidWorkloads,omitempty"`
	// UninjectedWorkloads names the workloads and bare pods counted in Uninjected
	// (kind/namespace/name).
	// +optional
	UninjectedWorkloads []string `json:"uninjectedWorkloads,omitempty"`
}

// MeshConfigList is a list of MeshConfigs.
//
// +kubebuilder:object:root=true
type MeshConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MeshConfig `json:"items"`
}
