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
}

// ObservabilitySpec groups the observability settings.
type ObservabilitySpec struct {
	// Tracing configures the Zipkin tracer of every injected Envoy.
	// +optional
	Tracing TracingSpec `json:"tracing,omitempty"`
}

// TracingSpec configures the Zipkin tracer of every injected Envoy. A field left unset takes
// the injector's default.
type TracingSpec struct {
	// Enable turns tracing on for every injected Envoy. Default false.
	// +optional
	Enable *bool `json:"enable,omitempty"`

	// Address is the DNS name or IP address of the Zipkin collector.
	// Default jaeger.<control-plane-namespace>.svc.cluster.local.
	// +optional
	Address string `json:"address,omitempty"`

	// Port is the collector's port, 1 to 65535. Default 9411.
	// +optional
	Port *int32 `json:"port,omitempty"`

	// Endpoint is the HTTP path spans are posted to; it begins with '/'. Default /api/v2/spans.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// Sampling is the percentage of new traces that are sampled, 0 to 100. Default 100.
	// +optional
	Sampling *float64 `json:"sampling,omitempty"`
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
	// Stale counts opted-out workloads and bare pods that run an old bootstrap.
	Stale int32 `json:"stale"`
	// FailedWorkloads names the workloads whose rollout failed (kind/namespace/name).
	// +optional
	FailedWorkloads []string `json:"failedWorkloads,omitempty"`
	// StaleWorkloads names opted-out workloads and bare pods that run an old bootstrap.
	// +optional
	StaleWorkloads []string `json:"staleWorkloads,omitempty"`
}

// MeshConfigList is a list of MeshConfigs.
//
// +kubebuilder:object:root=true
type MeshConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MeshConfig `json:"items"`
}
