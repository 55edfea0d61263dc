package gc

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var configMapsDeleted = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "osm_injector_bootstrap_configmaps_deleted_total",
	Help: "Bootstrap ConfigMaps deleted because no pod referenced them for the grace period.",
})

func init() {
	crmetrics.Registry.MustRegister(configMapsDeleted)
}
