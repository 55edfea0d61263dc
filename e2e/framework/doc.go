// Package framework starts real Kubernetes control planes and a real Jaeger on loopback for
// end-to-end tests, from binaries that hack/testbin.sh builds into .cache/testbin.
//
// A test asks for a cluster and gets clients for it:
//
//	c := framework.Start(t, framework.Options{Kwok: true})
//	pods, err := c.Clientset.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
//	out, _, err := c.Kubectl("get", "pods", "-o", "wide")
//
// What runs:
//   - always etcd and kube-apiserver, with RBAC, a token-authenticated admin user
//     (group system:masters), service-account signing keys and certificates made here;
//   - with Options.Controllers, kube-controller-manager and kube-scheduler, so Deployments get
//     ReplicaSets and Pods, namespaces get their default ServiceAccount and Pods get bound;
//   - with Options.Kwok (implies Controllers), kwok and one fake node, [KwokNodeName], which is
//     Ready and untainted when Start returns; kwok makes scheduled Pods Running and Ready, and
//     serves the kubelet API on loopback so port-forwarding to a Pod reaches a local process
//     (see [PortForward] and [Cluster.AddPortForward]).
//
// Every process listens on 127.0.0.1 only, on free ports, with its files in a temporary
// folder. t.Cleanup stops every process (SIGTERM, then SIGKILL) and the processes die with the
// test binary (Pdeathsig), so nothing outlives a test. When a test fails, the last lines of
// each process's log are printed with t.Log. Set OSM_E2E_KEEP=1 to keep the folders.
//
// Binaries are looked up in $OSM_TESTBIN, or in .cache/testbin at the repository root. A
// missing binary fails the test with the command that builds it (make testbin); set
// OSM_E2E_SKIP=1 to skip such tests on purpose instead.
//
// [StartJaeger] runs the Jaeger all-in-one binary (memory storage) with a Zipkin receiver,
// OTLP receivers and the query API on free loopback ports.
package framework
