package inject

import (
	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// ParseMeshConfig reads a MeshConfig from YAML or JSON (kubectl get meshconfig -o yaml
// writes one) as strictly as the API server does (v1alpha2.DecodeMeshConfig: exact keys and
// types, one object, errors with the field path). It returns the observability spec, validated over
// defaults with bootstrap.MeshTracing.
func ParseMeshConfig(data []byte, defaults bootstrap.Tracing) (*v1alpha2.ObservabilitySpec, error) {
	mc, err := v1alpha2.DecodeMeshConfig(data) // its errors say "when decoding the MeshConfig"
	if err != nil {
		return nil, err
	}
	spec := mc.Spec.Observability
	if _, err := bootstrap.MeshTracing(defaults, &spec); err != nil {
		return nil, err
	}
	return &spec, nil
}
