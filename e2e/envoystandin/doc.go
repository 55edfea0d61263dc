// Package envoystandin is a STAND-IN for Envoy's admin interface, for end-to-end tests only.
// No Envoy binary can run on the test machines, so a test that port-forwards to an injected
// pod's admin port (15000) reaches this small HTTP server instead (through a kwok
// PortForward). It serves a few admin paths from the pod's own generated bootstrap:
//
//   - /config_dump: the bootstrap wrapped as Envoy wraps it, a ConfigDump holding one
//     envoy.admin.v3.BootstrapConfigDump, rendered as JSON with proto field names;
//   - /clusters: the static clusters and their endpoints, one "name::key::value" line each,
//     in the shape of Envoy's text output;
//   - /ready: "LIVE".
//
// It proves the CLI's plumbing (pod checks, port-forward, paths, output), not Envoy's
// behaviour: it is not Envoy and must never be presented as such.
package envoystandin
