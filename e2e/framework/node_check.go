package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// NodeLeftovers lists what of the real node is on the machine: live processes of the node
// (by command line or cgroup), mounts under its folders, its cgroups, the bridge, the
// nftables tables (the framework's and kube-proxy's), conntrack entries of its ranges, its
// folder, paths added to the machine's shared folders since the start, and watched sysctls
// that differ from their values at the start. Empty means the machine is as it was.
//
// After the teardown (in a t.Cleanup registered before Start, which runs after the
// framework's) it is what the framework's last cleanup found once every process of the
// cluster had ended, right before it released the node lock: from then on, the machine may
// hold another test binary's node. That cleanup also fails the test on a leftover. A cluster
// without a node has no leftovers.
func (c *Cluster) NodeLeftovers() []string {
	if c.node == nil {
		return nil
	}
	if c.node.finished {
		return c.node.left
	}
	return c.node.leftovers()
}

// leftovers is NodeLeftovers, checked now.
func (n *node) leftovers() []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var left []string
	for _, pid := range nodeProcesses() {
		left = append(left, "process "+describeProcess(pid))
	}
	for _, mp := range mountsUnder(nodeDir, "/run/containerd", "/var/lib/kubelet") {
		left = append(left, "mount "+mp)
	}
	for _, d := range nodeCgroupDirs() {
		left = append(left, "cgroup "+d)
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", NodeBridge)); err == nil {
		left = append(left, "bridge "+NodeBridge)
	}
	for _, t := range [][2]string{{"inet", nodeNFTable}, {"ip", kubeProxyTable}, {"ip6", kubeProxyTable}} {
		if nftTableExists(ctx, t[0], t[1]) {
			left = append(left, "nftables table "+t[0]+" "+t[1])
		}
	}
	if n := countConntrack(ctx); n > 0 {
		left = append(left, fmt.Sprintf("%d conntrack entr(ies) of the node's ranges", n))
	}
	if _, err := os.Stat(nodeDir); err == nil {
		left = append(left, "folder "+nodeDir)
	}
	if n.before.Sysctls == nil {
		return left // the node did not get as far as its snapshot
	}
	for _, p := range n.before.newPaths() {
		for _, mp := range mountsUnder(p) {
			left = append(left, "mount "+mp)
		}
		left = append(left, "path "+p)
	}
	return append(left, n.before.changedSysctls()...)
}
