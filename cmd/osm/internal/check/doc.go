// Package check runs the user guide's tracing troubleshooting steps against a cluster
// (osm tracing check): the MeshConfig has tracing on, its address, port and endpoint are
// valid and reach a Service, injected pods carry a current bootstrap with the tracing cluster,
// Jaeger's objects are ready, the webhook's certificate verifies, no pod of a mesh namespace
// lacks its sidecar, and a test span reaches Jaeger and can be read back.
//
// Every check is a small function that returns Results; the evaluations that need no cluster
// (a bootstrap against the expected settings, a certificate against a CA bundle, ...) are
// pure functions tested with tables.
package check
