package inject

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/version"
)

// MinKubernetesMinor is the oldest Kubernetes 1.x minor release the sidecar runs on: native
// sidecars (init containers with restartPolicy Always) are on by default from 1.29.
const MinKubernetesMinor = 29

// UnsupportedClusterError is returned for a pod that would be injected on a cluster whose API
// server is too old for the sidecar. The webhook denies such pods whatever its failure policy:
// admitted, the kubelet of an older release would treat envoy as an ordinary init container
// that never exits, and the pod would hang in Init forever.
type UnsupportedClusterError struct {
	// Version is the API server's version as it reports it (v1.28.3, say).
	Version string
}

func (e *UnsupportedClusterError) Error() string {
	return fmt.Sprintf("osm-injector: the API server runs Kubernetes %s, but the Envoy sidecar is a native sidecar "+
		"(an init container with restartPolicy: Always), which needs Kubernetes 1.%d or later; upgrade the cluster, "+
		"or remove the namespace label openservicemesh.io/sidecar-injection (or annotate the pod "+
		"openservicemesh.io/sidecar-injection: disabled) to create the pod without the sidecar",
		e.Version, MinKubernetesMinor)
}

// CheckServerVersion returns an *UnsupportedClusterError when v, an API server's version
// (v1.28.3, or a vendor's v1.28.3-eks-1), is older than 1.MinKubernetesMinor, and an error
// when v does not parse. An empty v is not checked.
func CheckServerVersion(v string) error {
	if v == "" {
		return nil
	}
	parsed, err := version.ParseGeneric(v)
	if err != nil {
		return fmt.Errorf("the API server's version %q does not parse: %w", v, err)
	}
	if parsed.Major() < 1 || parsed.Major() == 1 && parsed.Minor() < MinKubernetesMinor {
		return &UnsupportedClusterError{Version: v}
	}
	return nil
}

// checkServerVersion checks the cluster the pod is created on, when the caller knows it.
func (e Env) checkServerVersion() error {
	return CheckServerVersion(e.ServerVersion)
}
