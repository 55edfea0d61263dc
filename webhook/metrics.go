package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Admission results, the values of the result label of osm_injector_admissions_total.
const (
	ResultInjected = "injected"
	ResultSkipped  = "skipped"
	ResultDenied   = "denied"
	ResultError    = "error"
)

// The metrics live in controller-runtime's registry, served on the manager's metrics address,
// registered when the package is loaded, as controller-runtime registers its own.
var (
	admissionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "osm_injector_admissions_total",
		Help: "Admission requests answered by the injector, by result (injected, skipped, denied, error).",
	}, []string{"result"})

	admissionDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "osm_injector_admission_duration_seconds",
		Help:    "Time spent answering one admission request.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	})

	configMapsCreated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "osm_injector_bootstrap_configmaps_created_total",
		Help: "Bootstrap ConfigMaps created by the admission path.",
	})
)

func init() {
	crmetrics.Registry.MustRegister(admissionsTotal, admissionDuration, configMapsCreated)
	for _, r := range []string{ResultInjected, ResultSkipped, ResultDenied, ResultError} {
		admissionsTotal.WithLabelValues(r)
	}
}

func observeAdmission(result string, took time.Duration) {
	admissionsTotal.WithLabelValues(result).Inc()
	admissionDuration.Observe(took.Seconds())
}
