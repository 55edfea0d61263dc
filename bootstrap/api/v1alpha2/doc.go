// Package v1alpha2 holds the MeshConfig API of the config.openservicemesh.io group: the
// mesh-wide tracing settings that the injector and the re-bootstrap controller follow.
//
// +kubebuilder:object:generate=true
// +groupName=config.openservicemesh.io
package v1alpha2
