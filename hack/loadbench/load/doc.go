// Package load is `loadbench load`: it measures the osm-injector admission webhook the way
// kube-apiserver calls it. It POSTs AdmissionReview v1 requests for Pod CREATEs, like those
// the ReplicaSet controller causes for the bookstore demo's bookbuyer Deployment
// (generateName, the pod-template-hash label, an owner reference to the ReplicaSet, a
// service account and the projected token volume the ServiceAccount admission plugin adds),
// over a keep-alive HTTPS client (HTTP/2 by default, as kube-apiserver's webhook client;
// -http1 for HTTP/1.1).
//
// Every response must be an AdmissionReview for the request's UID that allows the Pod and
// carries a JSONPatch; anything else is counted as an error, a denial or a missing patch.
// At the end it prints requests, failures, latency percentiles (p50, p90, p99, max) and
// throughput as a table, or as JSON with -json. The exit status is 1 when any request
// failed, 2 for bad usage.
//
// It only talks to loopback: a -url whose host is not 127.0.0.0/8, ::1 or localhost is
// refused, and the dialer refuses any non-loopback address as well. Proxies from the
// environment are ignored.
//
// Usage, against an injector run on the host (its CA from the webhook Secret):
//
//	kubectl -n osm-system get secret osm-injector-tls -o jsonpath='{.data.ca\.crt}' | base64 -d > /tmp/ca.crt
//	go run ./hack/loadbench load -url https://127.0.0.1:9443/mutate-v1-pod -ca /tmp/ca.crt -c 16 -n 5000
//	go run ./hack/loadbench load -url https://127.0.0.1:9443/mutate-v1-pod -insecure -c 32 -d 30s -dry-run -json
//
// Flags:
//
//	-url        webhook URL (https, loopback host only); kube-apiserver's ?timeout= is added
//	-c          concurrent workers (default 8)
//	-n          total requests (default 1000 when -d is not given)
//	-d          run for this long instead (at most 1h); with -n, whichever ends first
//	-ca         PEM file of the CA(s) to trust (the webhook's caBundle)
//	-insecure   do not verify the server certificate
//	-namespace  namespace of the Pods (default bookbuyer); it must be labelled for injection
//	-dry-run    mark requests dryRun (the injector then writes no bootstrap ConfigMap)
//	-timeout    per-request timeout (default 10s, the webhook default)
//	-http1      use HTTP/1.1 instead of HTTP/2 (the report shows the version the server agreed to)
//	-json       print the summary as JSON
//
// Without -dry-run, the injector creates the bootstrap ConfigMap on the first request and
// finds it on every later one, which is the steady state this tool is meant to measure.
package load
