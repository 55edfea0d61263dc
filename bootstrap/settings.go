package bootstrap

// Tracing is the effective tracing configuration of one Envoy.
type Tracing struct {
	// Enable turns the Zipkin tracer and the tracing cluster on.
	Enable bool
	// Address is the collector's DNS name or IP.
	Address string
	// Port is the collector's port, 1..65535.
	Port uint32
	// Endpoint is the HTTP path spans are posted to; it begins with '/'.
	Endpoint string
	// Sampling is the percentage (0..100) of new traces that are sampled.
	Sampling float64
	// Propagation is the trace context the tracer reads and writes: PropagationB3 or
	// PropagationB3W3C.
	Propagation string
}

// Trace context propagations.
const (
	// PropagationB3 reads and writes B3 headers (x-b3-traceid, ...) only, as Envoy's Zipkin
	// tracer has always done.
	PropagationB3 = "b3"
	// PropagationB3W3C reads B3 headers, else W3C traceparent, and writes both: a service
	// instrumented with OpenTelemetry's default propagator (W3C) and one speaking B3 then
	// join the same trace.
	PropagationB3W3C = "b3+w3c"
)

// Settings is everything a bootstrap is built from. Two pods with equal Settings share one
// bootstrap, hence one ConfigMap. Settings is comparable, so it can key a cache.
type Settings struct {
	Tracing Tracing
	// ServiceName is the name spans carry (Envoy's node.cluster).
	ServiceName string
}

// Defaults returns the built-in tracing defaults for a control plane in namespace ns: the
// lowest layer of precedence, under the MeshConfig and annotations.
func Defaults(ns string) Tracing {
	if ns == "" {
		ns = DefaultNamespace
	}
	return Tracing{
		Enable:   false,
		Address:  "jaeger." + ns + ".svc.cluster.local",
		Port:     9411,
		Endpoint: "/api/v2/spans",
		Sampling: 100,
		// Both, so that W3C-instrumented applications' traces join the sidecars' from the
		// start; B3 stays first, so B3 callers keep working as before.
		Propagation: PropagationB3W3C,
	}
}
