package inject

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// ParseMeshConfig reads a MeshConfig from YAML or JSON (kubectl get meshconfig -o yaml
// writes one) strictly: an unknown or misspelt field is an error. It returns the tracing spec,
// validated over defaults with bootstrap.MeshTracing.
func ParseMeshConfig(data []byte, defaults bootstrap.Tracing) (*v1alpha2.TracingSpec, error) {
	var mc v1alpha2.MeshConfig
	if err := yaml.UnmarshalStrict(data, &mc); err != nil {
		return nil, fmt.Errorf("when decoding the MeshConfig: %w", err)
	}
	if mc.Kind != "MeshConfig" {
		return nil, fmt.Errorf("not a MeshConfig: its kind is %q", mc.Kind)
	}
	spec := mc.Spec.Observability.Tracing
	if _, err := bootstrap.MeshTracing(defaults, &spec); err != nil {
		return nil, err
	}
	return &spec, nil
}
