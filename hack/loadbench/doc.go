// Command loadbench load-tests osm-injector's admission webhook:
//
//	go run ./hack/loadbench                      # or: make loadbench
//	go run ./hack/loadbench -levels 1,8,32 -n 5000 -d 20s -repeat 3 -max-load 4 -max-wait 25m
//	make loadbench LOADBENCH_FLAGS="-max-load 4 -keep"
//	go run ./hack/loadbench load -url https://127.0.0.1:9443/mutate-v1-pod -ca /tmp/ca.crt -c 16 -n 5000
//
// It has two modes. `loadbench [flags]` measures the webhook end to end, reproducibly, on a
// local control plane it starts, and prints the numbers as a markdown table (below).
// `loadbench load -url URL [flags]` only generates the load, against a webhook already
// running on loopback, and prints latencies and throughput (package load says how); the
// benchmark runs it as a child process of its own binary.
//
// What it does, all on 127.0.0.1:
//
//  1. optionally waits until the machine is quiet (-max-load, -max-wait: the 1-minute load
//     average, from /proc/loadavg);
//  2. builds osm-injector with `go build` into a temporary folder;
//  3. starts a control plane with e2e/framework's Launch: etcd and kube-apiserver only, no
//     controllers (from .cache/testbin, built by `make testbin`);
//  4. installs the MeshConfig CRD from manifests/crds, the MeshConfig osm-mesh-config in
//     osm-system with tracing enabled, and the namespace bookbuyer labelled
//     openservicemesh.io/sidecar-injection=enabled;
//  5. starts the osm-injector binary as a child process on free loopback ports (webhook,
//     metrics, health probes), waits for /readyz, and reads its CA from the Secret
//     osm-injector-tls (key ca.crt);
//  6. warms up with -warmup requests at c=1, which create the one bootstrap ConfigMap the
//     bookbuyer pods share, then waits -settle;
//  7. for each concurrency of -levels (each -repeat times) runs `loadbench load -json` and, around
//     it, scrapes the injector's /metrics (osm_injector_bootstrap_configmaps_created_total,
//     osm_injector_admissions_total) and kube-apiserver's /metrics (apiserver_request_total
//     with a write verb: POST, PUT, PATCH, DELETE, DELETECOLLECTION, APPLY), reads the
//     injector's CPU time from /proc/PID/stat and the load average;
//  8. prints the table: latency percentiles and throughput as the load measured them,
//     ConfigMaps the admission path created, API writes during the run (every writer of the
//     cluster: the injector's controllers and kube-apiserver's own lease renewals are
//     included, so the breakdown by resource follows the table) and per 1000 admissions, the
//     injector's CPU time per admission, and at the end its peak RSS (VmHWM).
//
// To see where the injector's time goes, -cpuprofile FILE (and -memprofile FILE) run the
// injector inside loadbench with app.Run, with the same options, instead of as a child
// process, and profile the measured runs (the load tool stays a separate process):
//
//	go run ./hack/loadbench -levels 8 -repeat 1 -n 20000 -cpuprofile /tmp/cpu.out
//	go tool pprof -top -cum /tmp/cpu.out
//
// -injector PATH measures a prebuilt osm-injector instead (say, one built from another
// commit), to compare two builds on the same machine back to back.
//
// -restart-after D measures a restart under load instead of the benchmark (restart.go): two
// injector processes, as the chart's two replicas, behind a loopback TCP balancer that sends
// each new connection to a backend whose /readyz passed at its last poll (every second, for
// the endpoints controller and kube-proxy) and leaves established connections where they are;
// the load tool runs at the first -levels concurrency for -d, and D into the run the first
// injector gets SIGTERM. It prints the requests, how many failed and how long the injector took
// to exit; -shutdown-delay sets the injectors' --shutdown-delay (0s: stop at once, the
// behaviour before graceful shutdown):
//
//	go run ./hack/loadbench -levels 8 -d 20s -restart-after 8s -shutdown-delay 0s
//	go run ./hack/loadbench -levels 8 -d 20s -restart-after 8s
//
// Everything it started is stopped when it returns, fails, or gets SIGINT/SIGTERM/SIGHUP; the
// children also get SIGKILL if it dies (Pdeathsig). -keep keeps the folder with the logs of
// kube-apiserver, etcd and the injector (-dir chooses it). The exit status is 1 when a run had
// failed requests or setting up failed, 2 for bad usage.
//
// The load tool runs on the same machine as the injector and kube-apiserver and competes with
// them for CPU; at c=32 on two cores the client's own cost shows in the latencies.
package main
