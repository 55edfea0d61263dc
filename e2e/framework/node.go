package framework

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real node's names and addresses. They are fixed, not drawn per test: one node runs on a
// machine at a time (lockNode), and fixed names let a later run find and remove what a killed
// one left behind. The ranges are private ones of no machine's network (the machines' own
// eth0 uses 192.0.2.0/24 and fd00::/64), and only the test's bridge carries them.
const (
	// NodeName is the real node's name (kubelet's --hostname-override).
	NodeName = "osm-e2e-node"
	// NodeBridge is the bridge the test creates: no ports but the Pods' veths, no uplink.
	NodeBridge = "osme2e0"
	// NodeIP is the node's address on NodeBridge: kubelet's --node-ip, kube-apiserver's
	// bind and advertise address, the Pods' DNS server and their route to Services.
	NodeIP = "10.231.0.1"
	// NodeIPv6 is the node's IPv6 address on NodeBridge.
	NodeIPv6 = "fd10:231::1"
	// NodePodCIDR and NodePodCIDRv6 are the Pods' addresses (from .11 and ::11 on): every
	// Pod gets one of each.
	NodePodCIDR   = "10.231.0.0/24"
	NodePodCIDRv6 = "fd10:231::/64"
	// NodeServiceCIDR and NodeServiceCIDRv6 are the Service ranges of a cluster with a real
	// node; kube-proxy serves them. A Service is IPv4 unless it asks for IPv6
	// (ipFamilyPolicy, ipFamilies).
	NodeServiceCIDR   = "10.232.0.0/24"
	NodeServiceCIDRv6 = "fd10:232::/112"
	// KubernetesServiceIP is the ClusterIP of the kubernetes Service in NodeServiceCIDR.
	KubernetesServiceIP = "10.232.0.1"
	// ClusterDomain is the Pods' DNS domain: NAME.NAMESPACE.svc.cluster.local.
	ClusterDomain = "cluster.local"
	// SandboxImage is the pause image of the node's containerd (sandbox_image): import an
	// archive naming it (Options.NodeImages) before the first Pod.
	SandboxImage = "osm-tracing.test/pause:v1"

	// nodeDir holds everything of the node: containerd's root, state, socket and
	// configuration, kubelet's root, the CNI configuration. Short, for unix sockets (108
	// bytes at most); fixed, for the sweep of a killed run's leftovers.
	nodeDir = "/run/osm-e2e-node"
	// nodeCgroup is kubelet's --cgroup-root: every Pod's cgroup is under it, in each
	// hierarchy, so teardown finds them all.
	nodeCgroup = "osm-e2e-node"
	// nodeNFTable is the framework's own nftables table (family inet): its forward chain
	// keeps Pod packets on the bridge.
	nodeNFTable = "osm-e2e"
)

// node is the real node of a cluster: its processes, its in-process DNS server, and what
// teardown must remove.
type node struct {
	t    testing.TB
	r    *runner
	lock *nodeLock
	dir  string

	kubeletUser, proxyUser user
	// before is the state of the machine's shared folders before the node started: what
	// teardown restores and NodeLeftovers compares with.
	before hostSnapshot

	containerd, kubelet, proxy *process
	dns                        *dnsServer
	// snapshotter is containerd's: overlayfs, or native where overlay mounts fail.
	snapshotter string
	// bridgeUp is when the bridge was made: the start of the node's start-up.
	bridgeUp time.Time

	teardownOnce sync.Once
	stopSignals  func()
	// finished is set, and left is what the check found, once finish ran.
	finished bool
	left     []string
}

// newNode is a node to start; its runner is set before it starts.
func newNode(t testing.TB, lock *nodeLock) *node {
	return &node{t: t, lock: lock, dir: nodeDir}
}

// path is a file of the node's folder.
func (n *node) path(name ...string) string {
	return filepath.Join(append([]string{n.dir}, name...)...)
}

// users are the identities of kubelet and kube-proxy in kube-apiserver's token file.
func (n *node) users() []user {
	return []user{n.kubeletUser, n.proxyUser}
}

// prepare sweeps what an earlier, killed run left, then makes the node's folder, the bridge,
// the nftables table and the CNI configuration: everything kube-apiserver and the node's
// processes need before they start.
func (n *node) prepare(ctx context.Context) error {
	var err error
	// system:masters as well: the test cluster needs no finer split (see newUsers), and
	// kubelet's webhook authorizer asks kube-apiserver about kube-apiserver's own requests.
	if n.kubeletUser, err = newUser("system:node:"+NodeName, "system:nodes,system:masters"); err != nil {
		return err
	}
	if n.proxyUser, err = newUser("system:kube-proxy", "system:masters"); err != nil {
		return err
	}
	// A run killed before its teardown (SIGKILL, a test timeout) leaves containers, mounts
	// and the bridge behind; they would break this one.
	removed, errs := sweepNode(ctx)
	if len(removed) > 0 {
		n.t.Logf("framework: removed what an earlier node run left: %s", strings.Join(removed, "; "))
	}
	if len(errs) > 0 {
		return fmt.Errorf("when removing what an earlier node run left: %w", errors.Join(errs...))
	}
	n.before = takeHostSnapshot()
	if err := mkdirs(n.path(), n.path("cni", "net.d"), n.path("cni", "ipam"),
		n.path("kubelet"), n.path("certs")); err != nil {
		return err
	}
	if err := n.before.save(); err != nil {
		return err
	}
	if err := makeSharedMount(n.path()); err != nil {
		return err
	}
	n.stopSignals = teardownOnSignal(n.teardown)
	if err := setUpBridge(ctx); err != nil {
		return err
	}
	n.bridgeUp = time.Now()
	return writeCNIConfig(n.path("cni", "net.d"), n.path("cni", "ipam"))
}

// start runs containerd, imports the images, starts the DNS server, kubelet and kube-proxy,
// and waits until the node is Ready and untainted and kube-proxy has programmed the
// kubernetes Service.
func (n *node) start(ctx context.Context, c *Cluster, images []string) error {
	began := time.Now()
	phase := began
	if err := n.startContainerd(ctx); err != nil {
		return err
	}
	n.t.Logf("framework: containerd ready in %s", time.Since(phase).Round(time.Millisecond))
	if len(images) > 0 {
		phase = time.Now()
		for _, archive := range images {
			if err := n.importImage(ctx, archive); err != nil {
				return err
			}
		}
		n.t.Logf("framework: %d image archive(s) imported in %s", len(images), time.Since(phase).Round(time.Millisecond))
	}
	dns, err := startDNS(ctx, c.Clientset, n.t.Logf)
	if err != nil {
		return err
	}
	n.dns = dns
	phase = time.Now()
	// kube-proxy takes its node address from --bind-address, so it needs no Node object and
	// starts beside kubelet.
	if err := n.startKubeProxy(c); err != nil {
		return err
	}
	if err := n.startKubelet(c); err != nil {
		return err
	}
	if err := waitNodeReady(ctx, n.r, c.Clientset, NodeName); err != nil {
		return err
	}
	n.t.Logf("framework: node %s Ready and untainted in %s (%s after the bridge was made, the control plane's start included)",
		NodeName, time.Since(phase).Round(time.Millisecond), time.Since(n.bridgeUp).Round(time.Millisecond))
	phase = time.Now()
	if err := n.waitKubeProxy(ctx); err != nil {
		return err
	}
	n.t.Logf("framework: kube-proxy ready in %s (node started in %s)", time.Since(phase).Round(time.Millisecond),
		time.Since(began).Round(time.Millisecond))
	return nil
}

// NodePodLogsDir is kubelet's podLogsDir: NAMESPACE_POD_UID/CONTAINER/N.log. It is in the
// cluster's folder, so OSM_E2E_KEEP keeps it.
func (c *Cluster) NodePodLogsDir() string {
	return filepath.Join(c.Dir, "pod-logs")
}
