// Package testimages builds the container images the real-node end-to-end tests run, without
// Docker and without pulling anything, as OCI archives that the node's containerd imports with
// `ctr -n k8s.io images import FILE` (one archive per call). `go run ./hack/testimages -out
// .cache/images -jaeger .cache/testbin/jaeger-v1.76.0/jaeger` writes them all; Build is the
// same from Go.
//
// All are linux/<this machine's architecture> (amd64 on the test machines), built with
// hack/ociarchive as the osm-injector image is:
//
//   - PauseImage, osm-tracing.test/pause:v1: e2e/testimages/pause at /pause, a static Go
//     program that waits for SIGTERM; user 65535. containerd's sandbox_image.
//   - EnvoyStandInImage, osm-tracing.test/envoy-standin:v1: the ENVOY STAND-IN
//     (e2e/envoystandin/cmd/envoy-standin) at /usr/local/bin/envoy, PATH set, user
//     1500:1500, entrypoint the binary with cmd [-c /etc/envoy/bootstrap.yaml]. The injected
//     container runs `envoy -c ... --service-node ... --concurrency N` on a read-only root with
//     no capabilities; the stand-in needs nothing else. Envoy itself cannot be had here.
//   - TestAppImage, osm-tracing.test/testapp:v1: e2e/testapp at /testapp (PATH=/), user
//     65532:65532, entrypoint /testapp with cmd [serve --port 8080].
//   - InitImage, osm-tracing.test/osm-init:v1: osm-init (cmd/osm-init) at /osm-init, user
//     65532:65532, entrypoint the binary: the image `make image` builds as
//     ghcr.io/osm-tracing/osm-init, under the test registry's name. The injected container
//     runs it as uid 0 with NET_ADMIN alone and the redirect's flags as its arguments.
//   - JaegerImage, jaegertracing/jaeger:2.13.0: the chart's default osm.jaeger.image, so that
//     the chart's Jaeger runs unmodified (imagePullPolicy IfNotPresent finds it imported).
//     It holds the Jaeger binary hack/testbin.sh builds from the source of the same release
//     (Go module github.com/jaegertracing/jaeger v1.76.0, checked in the binary's build
//     information) at /cmd/jaeger/jaeger-linux, where the upstream image has it, user 10001,
//     JAEGER_LISTEN_HOST=0.0.0.0, an empty /tmp and an /etc/hosts naming localhost (its
//     health check listens on localhost:13132); its description label says it is a source
//     build for tests. Without a --config, Jaeger v2 runs its embedded all-in-one
//     configuration, whose receivers (Zipkin 9411, OTLP 4317/4318) listen on
//     ${JAEGER_LISTEN_HOST:-localhost} and whose query API listens on :16686, as the chart's
//     probes need. A source build has no UI assets: the page at 16686 is Jaeger's
//     placeholder, while the query API (/api/services, /api/traces) works.
//
// Each archive's index.json names the image as the kubelet will look it up through
// containerd's CRI plugin (ContainerdName): the Jaeger image is stored as
// docker.io/jaegertracing/jaeger:2.13.0, which is what the chart's jaegertracing/jaeger:2.13.0
// means; under the short name the kubelet would not find it and would try to pull it.
//
// Build is cached: beside each archive a stamp (NAME.oci.tar.inputs) records the digest of
// its inputs (its files' names, modes and bytes, its configuration, its reference) and of the
// archive; an archive whose stamp matches is not rewritten, so its file (and its mtime) stay
// as they are. Every timestamp in the images is 1970-01-01: the same inputs give the same
// bytes.
package testimages
