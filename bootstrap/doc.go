// Package bootstrap is the pure core of osm-tracing: it resolves a pod's effective tracing
// settings from defaults, the MeshConfig and annotations (Resolve), builds the Envoy bootstrap
// those settings call for (Build), and names the content-addressed ConfigMap that carries it.
// Nothing here talks to a cluster, reads a clock or draws a random number: values in, values
// out, so the webhook, the re-bootstrap controller and the CLI share one answer.
//
// Generate is Build, then Marshal's YAML (and, in the same pass, the IPv4-only rendering for
// nodes without IPv6), then Hash; bootstrap.Cache memoises it by Settings.
// The YAML's bytes are part of the contract: their hash names the ConfigMap and labels the pod,
// so changing them, even in layout, rolls every injected workload when the injector is
// upgraded. TestGolden holds them byte for byte and TestPinnedHashes pins the demo hashes.
package bootstrap
