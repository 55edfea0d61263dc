package rebootstrap

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The metrics live in controller-runtime's registry, served on the manager's metrics address.
var (
	workloadsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "osm_rebootstrap_workloads",
		Help: "Injected workloads by re-bootstrap state, as in the MeshConfig status: updated, rolling, " +
			"pending, failed, stale (workloads and bare pods on an old bootstrap that are never restarted), " +
			"opted_out (all opted-out workloads; the stale ones are also counted in stale), invalid.",
	}, []string{"state"})
	stampedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "osm_rebootstrap_stamped_total",
		Help: "Pod templates stamped with a new bootstrap hash (each starts a rollout), by workload kind.",
	}, []string{"kind"})
	stampErrorsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "osm_rebootstrap_stamp_errors_total",
		Help: "Stamps of a pod template that the API server refused.",
	})
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

var registerOnce sync.Once

// registerMetrics adds the collectors to controller-runtime's registry once per process (a
// test may set up several managers); a collector already registered is not an error.
func registerMetrics() error {
	var err error
	registerOnce.Do(func() {
		for _, c := range []prometheus.Collector{
			workloadsGauge, stampedTotal, stampErrorsTotal, failuresTotal, pausedGauge, rolloutSlotsGauge,
		} {
			if e := metrics.Registry.Register(c); e != nil {
				if are := (prometheus.AlreadyRegisteredError{}); !errors.As(e, &are) {
					err = errors.Join(err, e)
				}
			}
		}
	})
	return err
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
