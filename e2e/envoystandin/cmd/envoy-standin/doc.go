// Command envoy-standin is the Envoy STAND-IN of the real-node end-to-end tests, installed as
// /usr/local/bin/envoy in the image osm-tracing.test/envoy-standin (e2e/testimages): the
// injected container's `envoy -c /etc/envoy/bootstrap.yaml ...` runs it. See package
// e2e/envoystandin for what it does and, above all, what it does not: it is not Envoy.
package main
