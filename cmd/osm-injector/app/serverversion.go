package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// discoveryTimeout bounds the startup read of the API server's version.
const discoveryTimeout = 15 * time.Second

// readServerVersion reads the API server's version for the admission handler, which refuses
// to inject pods on clusters too old for the native sidecar (inject.CheckServerVersion).
func readServerVersion(cfg *rest.Config, log logr.Logger) string {
	c := rest.CopyConfig(cfg)
	c.Timeout = discoveryTimeout
	d, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		log.Error(err, "cannot make a discovery client; pods are injected without checking the cluster's version")
		return ""
	}
	return serverVersion(d, log)
}

// serverVersion is the API server's version as it reports it (v1.31.2, v1.31.2-eks-1), or ""
// when it cannot be read or does not parse: the check is then left off rather than refusing
// every pod on a guess. A cluster older than 1.inject.MinKubernetesMinor is logged, since
// every pod the webhook would inject is then denied.
func serverVersion(d discovery.ServerVersionInterface, log logr.Logger) string {
	info, err := d.ServerVersion()
	if err != nil {
		log.Error(err, "cannot read the API server's version; pods are injected without checking that the cluster "+
			fmt.Sprintf("runs Kubernetes 1.%d or later (native sidecars)", inject.MinKubernetesMinor))
		return ""
	}
	v := info.GitVersion
	var tooOld *inject.UnsupportedClusterError
	switch err := inject.CheckServerVersion(v); {
	case errors.As(err, &tooOld):
		log.Info("the cluster is too old for the Envoy sidecar: pods that would be injected are denied",
			"serverVersion", v, "minimum", fmt.Sprintf("1.%d", inject.MinKubernetesMinor))
	case err != nil:
		log.Error(err, "pods are injected without checking the cluster's version")
		return ""
	}
	return v
}
