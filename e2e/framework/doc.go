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
//   - with Options.Node (implies Controllers, excludes Kwok), a real node, [NodeName]: see
//     below.
//
// Every process listens on 127.0.0.1 only (but for a real node's cluster), on free ports,
// with its files in a temporary folder. t.Cleanup stops every process (SIGTERM, then SIGKILL) and the processes die with the
// test binary (Pdeathsig), so nothing outlives a test. When a test fails, the last lines of
// each process's log are printed with t.Log. Set OSM_E2E_KEEP=1 to keep the folders.
//
// Binaries are looked up in $OSM_TESTBIN, or in .cache/testbin at the repository root. A
// missing binary fails the test with the command that builds it (make testbin); set
// OSM_E2E_SKIP=1 to skip such tests on purpose instead.
//
// # A real node
//
// Options.Node runs containerd (the Debian package), kubelet and kube-proxy (nftables mode)
// built by hack/testbin.sh, with real containers through runc; it needs root and the packages
// hack/node-deps.sh installs. The test creates the bridge [NodeBridge], with no port but the
// Pods' and no uplink, and gives it [NodeIP] and [NodeIPv6]; kube-apiserver listens on
// NodeIP (so Pods reach it through the kubernetes Service, [KubernetesServiceIP]) and
// allocates Services from [NodeServiceCIDR] (IPv4, the default) and [NodeServiceCIDRv6]. Pods get an IPv4 and an IPv6 address
// ([NodePodCIDR], [NodePodCIDRv6]) and a route to each Service range through the node, no
// default route: nothing a Pod sends can be routed off the machine. IPv4 forwarding is on
// for the bridge alone (a Pod → ClusterIP → Pod packet is routed back onto it), the
// machine's ip_forward stays off, and an nftables table of the framework drops whatever
// would be forwarded between the bridge and another interface. IPv6 Services work without
// any forwarding: br_netfilter bridges a DNATed packet back onto the bridge. A DNS server in
// the test process stands in for CoreDNS on NodeIP:53: A and AAAA records of
// NAME.NAMESPACE.svc.cluster.local for every Service, NXDOMAIN for anything else, nothing
// forwarded.
//
// Images are never pulled: import OCI archives (Options.NodeImages),
// one of them naming [SandboxImage], and give Pods imagePullPolicy Never. [Cluster.Exec]
// runs a command in a container (kubectl exec, through kubelet and containerd), kubectl logs
// works, [Cluster.WaitPodReady] and [Cluster.WaitServiceRouted] wait for a Pod and for
// kube-proxy. The logs of containerd, kubelet and kube-proxy are in the cluster's folder with
// the others; the containers' logs in [Cluster.NodePodLogsDir].
//
// One node runs on a machine at a time: a second test binary waits for the first's lock.
// Teardown kills the containers and the node's processes, removes the mounts, cgroups,
// bridge, nftables tables (the framework's and kube-proxy's), conntrack entries and the
// node's folder, and whatever containerd and kubelet added to the machine's shared folders.
// The machine's kernel settings are left alone: kubelet, which sets vm.overcommit_memory,
// kernel.panic and kernel.panic_on_oops at start, runs in a mount namespace where it reads
// the values it wants from files. A test binary interrupted by SIGINT or SIGTERM tears the
// node down before exiting, and the next node's start removes what a killed run left.
// [Cluster.NodeLeftovers] lists anything left; the test fails on a leftover.
//
// [StartJaeger] runs the Jaeger all-in-one binary (memory storage) with a Zipkin receiver,
// OTLP receivers and the query API on free loopback ports.
package framework
