// Package proxy reads what an injected pod's Envoy runs: any admin path (config_dump,
// clusters, stats, ready, ...) through a port-forward to the admin port, and the generated
// bootstrap from the ConfigMap the pod mounts (readable when Envoy is not running).
package proxy
