// Package redirect is the contract between the injector and osm-init: what a pod's traffic
// redirect is (Spec), how the injector writes it on osm-init's command line (Spec.Args) and
// how osm-init reads it back (Parse). Both sides import this package, so the flags cannot
// drift apart: what one renders, the other accepts, and Args(Parse(args)) gives the same
// flags again (FuzzParse holds that).
//
// The redirect it describes, per address family, is the one OSM's and Istio's init containers
// install:
//
//   - inbound: every TCP connection to the pod goes to Envoy's inbound listener
//     (InboundPort), except to Envoy's health port (bootstrap.HealthPort: the kubelet reaches
//     Envoy's readiness directly), its admin port (bootstrap.AdminPort), its Prometheus port
//     (bootstrap.PrometheusPort: Prometheus scrapes Envoy's statistics directly) and
//     InboundPortExclusions;
//   - outbound: every TCP connection the pod opens goes to Envoy's outbound listener
//     (OutboundPort), except Envoy's own (ProxyUID, or it would loop), connections leaving
//     through the loopback interface or to the loopback address, OutboundPortExclusions and
//     OutboundIPExclusions; when OutboundIPInclusions is not empty, only connections to those
//     ranges are redirected, and a family none of them belongs to is not redirected outbound
//     at all;
//   - UDP (DNS) and every other protocol are never redirected.
//
// The package is pure Go: no system call, nothing Linux-only, so the injector builds on every
// platform. The rules themselves are osm-init's business (cmd/osm-init).
package redirect
