package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// NodeLeftovers lists what of the real node is still on the machine: live processes of the
// node (by command line or cgroup), mounts under its folders, its cgroups, the bridge, the
// nftables tables (the framework's and kube-proxy's), conntrack entries of its ranges, its
// folder, paths added to the machine's shared folders since the start, and watched sysctls
// that differ from their values at the start. Empty means the machine is as it was.
//
// It is meant for after the teardown: a t.Cleanup registered before Start runs after the
// framework's. A cluster without a node has no leftovers.
func (c *Cluster) NodeLeftovers() []string {
	if c.node == nil {
		return nil
	}
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
	for _, p := range c.node.before.newPaths() {
		for _, mp := range mountsUnder(p) {
			left = append(left, "mount "+mp)
		}
		left = append(left, "path "+p)
	}
	left = append(left, c.node.before.changedSysctls()...)
	return left
}
