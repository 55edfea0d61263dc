// Command testimages writes the container images of the real-node end-to-end tests as OCI
// archives (package e2e/testimages), one line per archive on stdout:
//
//	go run ./hack/testimages -out .cache/images -jaeger .cache/testbin/jaeger-v1.76.0/jaeger
//
// Each line is REF PATH (wrote|cached), followed by "(imported as NAME)" when containerd stores
// the image under a longer name (docker.io/jaegertracing/jaeger:2.13.0); import an archive
// with `ctr -n k8s.io images import PATH`.
package main
