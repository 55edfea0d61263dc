// Command pause is the sandbox ("pause") container of the real-node end-to-end tests, /pause
// in the image osm-tracing.test/pause (e2e/testimages), which the node's containerd is
// configured to use as its sandbox_image: the process that holds a pod's namespaces while its
// containers come and go. It only waits for SIGTERM or SIGINT, then exits 0, as Kubernetes'
// own pause does; it reaps no zombies, since the tests do not share a pod's PID namespace.
package main
