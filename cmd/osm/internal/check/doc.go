// Package check runs the user guide's tracing troubleshooting steps against a cluster
// (osm tracing check): the MeshConfig has tracing on, its address, port and endpoint are
// valid and reach a Service, injected pods carry a current bootstrap with the tracing cluster,
// Jaeger's objects are ready, the webhook's certificate verifies, no pod of a mesh namespace
// lacks its sidecar, and a test span reaches Jaeger and can be read back.
//
// A pod's bootstrap is checked against the core, never against a model of our own: the
// check resolves the pod's settings as the webhook does and has bootstrap.Generate render
// what the pod should mount now, reads both bootstraps with bootstrap.Parse, and reports
// where their tracing differs (tracer kind, collector, sampling, propagation, tags), for
// Zipkin and OpenTelemetry alike, then whether their hashes do.
//
// Every check is a small function that returns Results; the evaluations that need no cluster
// (a bootstrap against the expected settings, a certificate against a CA bundle, ...) are
// pure functions tested with tables.
package check
