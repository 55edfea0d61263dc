// Command localcluster runs, outside of `go test`, the local control plane the e2e tests run:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with one fake node
// (from the binaries hack/testbin.sh caches), plus a real Jaeger all-in-one on loopback. It
// is the cluster of `make demo` (hack/demo.sh).
//
//	localcluster --kubeconfig .cache/demo/kubeconfig --state .cache/demo/state.json --dir .cache/demo/cluster
//
// Once everything is ready it writes the admin's kubeconfig to --kubeconfig and a JSON state
// file (its pid, every child process's pid, the API server's and Jaeger's addresses, the
// folders) to --state, then runs until SIGTERM, SIGINT or SIGHUP, when it stops every process
// it started, waits for them to end and removes the state file. Its children also die with
// it if it is killed (they get SIGKILL when their parent dies), so no process is left behind.
//
// While it runs it connects the fake node's pods to local processes with kwok PortForwards:
//
//   - every pod labelled app=jaeger (--jaeger-selector; the chart's osm.deployJaeger=true
//     Jaeger, or the guide's BYO one) gets its ports 9411 and 16686 forwarded to the real
//     Jaeger, so `kubectl port-forward -n osm-system $POD 16686:16686` reaches Jaeger's query
//     API (Jaeger's UI assets are not part of a source build: the API answers, the web pages
//     do not) and spans posted to 9411 land in it;
//   - with --envoy-standin (the default), every injected pod (it has an "envoy" container)
//     gets its port 15000 forwarded to an Envoy admin STAND-IN (e2e/envoystandin) that serves
//     /config_dump, /clusters and /ready from the pod's own generated bootstrap, so the
//     guide's `osm proxy get config_dump` works. It is not Envoy: no Envoy runs on kwok's fake
//     node, and nothing sends spans or traffic by itself.
//
// Everything listens on 127.0.0.1 only.
package main
