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
}

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
	}
}
