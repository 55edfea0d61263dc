package mesh

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
)

// MinKubernetesMinor is the oldest Kubernetes 1.x minor release osm-tracing runs on, which
// osm install checks before installing anything; the chart declares the same as its
// kubeVersion (>=1.31.0-0). Two features set it:
//   - the MeshConfig CRD's validation rules call CEL's isIP(), which the API server offers
//     from Kubernetes 1.31 (an older one refuses the CRD);
//   - the injected Envoy is a native sidecar (an init container with restartPolicy Always),
//     on by default from 1.29 (inject.MinKubernetesMinor; the injector checks it pod by pod).
const MinKubernetesMinor = 31

// CheckServerVersion reads the API server's version and returns an error naming it and the
// requirement when the cluster is older than Kubernetes 1.MinKubernetesMinor (or reports a
// version that does not parse).
func CheckServerVersion(d discovery.ServerVersionInterface) error {
	info, err := d.ServerVersion()
	if err != nil {
		return fmt.Errorf("when reading the Kubernetes version of the cluster: %w", err)
	}
	v := info.GitVersion
	parsed, err := version.ParseGeneric(v)
	if err != nil {
		return fmt.Errorf("the cluster reports Kubernetes version %q, which does not parse; osm-tracing needs "+
			"Kubernetes 1.%d or later: %w", v, MinKubernetesMinor, err)
	}
	if parsed.Major() > 1 || parsed.Major() == 1 && parsed.Minor() >= MinKubernetesMinor {
		return nil
	}
	return fmt.Errorf("the cluster runs Kubernetes %s, but osm-tracing needs Kubernetes 1.%d or later "+
		"(the MeshConfig CRD's validation rules use CEL's isIP(), from 1.31; the Envoy sidecar is a native sidecar, "+
		"from 1.29): upgrade the cluster first", v, MinKubernetesMinor)
}
