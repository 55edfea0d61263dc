package gc

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// configMapsDeleted lives in controller-runtime's registry, served on the manager's metrics
// address, registered when the package is loaded as controller-runtime registers its own.
var configMapsDeleted = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "osm_injector_bootstrap_configmaps_deleted_total",
	Help: "Bootstrap ConfigMaps deleted because no pod referenced them for the grace period.",
})

func init() {
	crmetrics.Registry.MustRegister(configMapsDeleted)
}
