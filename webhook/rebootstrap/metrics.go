package rebootstrap

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The metrics live in controller-runtime's registry, served on the manager's metrics address.
// They are registered when the package is loaded, as controller-runtime registers its own
// (and as webhook and webhook/gc do), so they are there whether or not Setup runs.
var (
	workloadsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "osm_rebootstrap_workloads",
		Help: "Injected workloads by re-bootstrap state, as in the MeshConfig status: updated, rolling, " +
			"pending, failed, stale (workloads and bare pods on an old bootstrap that are never restarted), " +
			"opted_out (all opted-out workloads; the stale ones are also counted in stale), outdated (workloads and bare " +
			"pods running their target's settings in a bootstrap another osm-injector version rendered), invalid, " +
			"uninjected (workloads and bare pods with live pods running without the sidecar).",
	}, []string{"state"})
	stampedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "osm_rebootstrap_stamped_total",
		Help: "Pod templates stamped with a new bootstrap hash (each starts a rollout), by workload kind.",
	}, []string{"kind"})
	stampErrorsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "osm_rebootstrap_stamp_errors_total",
		Help: "Stamps of a pod template that the API server refused.",
	})
	healedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "osm_rebootstrap_healed_total",
		Help: "Workloads rolled because some of their pods ran without the sidecar (each heal is also a stamp), by workload kind.",
	}, []string{"kind"})
	failuresTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "osm_rebootstrap_failures_total",
		Help: "Rollouts seen failing (progress deadline exceeded) after a stamp.",
	})
	pausedGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "osm_rebootstrap_paused",
		Help: "1 while a failed rollout keeps new rollouts from starting, else 0.",
	})
	rolloutSlotsGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "osm_rebootstrap_max_concurrent_rollouts",
		Help: "The bound on workloads rolling at once (--max-concurrent-rollouts).",
	})
)

func init() {
	crmetrics.Registry.MustRegister(workloadsGauge, stampedTotal, healedTotal, stampErrorsTotal, failuresTotal, pausedGauge, rolloutSlotsGauge)
}

// exportSummary sets the gauges from a summary.
func exportSummary(s Summary, paused bool) {
	for state, n := range s.Gauges() {
		workloadsGauge.WithLabelValues(state).Set(float64(n))
	}
	if paused {
		pausedGauge.Set(1)
	} else {
		pausedGauge.Set(0)
	}
}
