package framework

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// cgroupRoot is the cgroup hierarchies' mount point (cgroup v1: one folder per controller).
const cgroupRoot = "/sys/fs/cgroup"

// kubeletConfig is the node's KubeletConfiguration. Each setting below that departs from the
// defaults was needed on these machines, or keeps kubelet out of the machine's own state:
//
//   - cgroupDriver cgroupfs and failCgroupV1 false: no systemd, cgroup v1 hierarchies;
//   - cgroupRoot: every Pod's cgroup under nodeCgroup, for teardown;
//   - failSwapOn false: whatever swap the machine has;
//   - makeIPTablesUtilChains false: kubelet would add its chains to the machine's tables;
//   - resolvConf "": Pods get the cluster's DNS only, never the machine's resolver;
//   - volumePluginDir: kubelet would make /usr/libexec/kubernetes;
//   - image garbage collection off and eviction thresholds at 1%: imported images cannot be
//     pulled again, and a busy disk must not evict test Pods;
//   - the API on the node's address, HTTPS with a certificate of the cluster's CA, clients
//     authenticated by that CA (kube-apiserver's certificate) or a token, authorised by
//     kube-apiserver; no anonymous access, no read-only port, no healthz port.
func (n *node) kubeletConfig(port int, podLogsDir string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
port: %[2]d
readOnlyPort: 0
healthzPort: 0
tlsCertFile: %[3]s
tlsPrivateKeyFile: %[4]s
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %[5]s
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://%[6]s
cgroupDriver: cgroupfs
cgroupRoot: /%[7]s
failCgroupV1: false
failSwapOn: false
makeIPTablesUtilChains: false
podLogsDir: %[8]s
clusterDNS:
- %[1]s
clusterDomain: %[9]s
resolvConf: ""
volumePluginDir: %[10]s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 1Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
nodeStatusUpdateFrequency: 2s
serializeImagePulls: false
`, NodeIP, port, n.path("certs", "kubelet.crt"), n.path("certs", "kubelet.key"), n.path("certs", "ca.crt"),
		n.containerdSocket(), nodeCgroup, podLogsDir, ClusterDomain, n.path("volume-plugins"))
}

// startKubelet writes kubelet's certificates, kubeconfig and configuration, makes its cgroup
// root, and starts it.
func (n *node) startKubelet(c *Cluster) error {
	port, err := FreePort()
	if err != nil {
		return err
	}
	serving, err := c.CA.NewServingCert(NodeName, []net.IP{net.ParseIP(NodeIP)}, []string{NodeName})
	if err != nil {
		return err
	}
	if err := serving.WriteFiles(n.path("certs", "kubelet.crt"), n.path("certs", "kubelet.key")); err != nil {
		return err
	}
	if err := writeFile(n.path("certs", "ca.crt"), string(c.CA.PEM)); err != nil {
		return err
	}
	kubeconfig := n.path("kubelet.kubeconfig")
	if err := writeKubeconfig(kubeconfig, c.APIServerURL, c.CA.PEM, n.kubeletUser); err != nil {
		return err
	}
	podLogs := c.NodePodLogsDir()
	if err := mkdirs(podLogs); err != nil {
		return err
	}
	config := n.path("kubelet.yaml")
	if err := writeFile(config, n.kubeletConfig(port, podLogs)); err != nil {
		return err
	}
	if err := makeCgroupRoot(); err != nil {
		return err
	}
	args := []string{
		"--config=" + config,
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + n.path("kubelet"),
		"--cert-dir=" + n.path("certs"),
		"--node-ip=" + NodeIP,
		"--hostname-override=" + NodeName,
		"--v=2",
	}
	view, err := n.writeSysctlView()
	if err != nil {
		return err
	}
	// kubelet runs in a mount namespace of its own where the kernel settings it wants are
	// files with those values (see kubeletSysctls); its mounts under the node's folder, a
	// shared mount, still show on the machine, where containerd and runc use them.
	wrapped := append([]string{"--mount", "--propagation", "unchanged", "--", "sh", "-c", kubeletWrapper,
		"kubelet-wrapper", view, c.Binaries.Kubelet}, args...)
	p, err := n.r.start("kubelet", "unshare", wrapped)
	if err != nil {
		return err
	}
	n.kubelet = p
	return nil
}

// kubeletSysctls are the kernel settings kubelet sets at start unless they already have
// these values (protectKernelDefaults only turns the writes into a refusal to start):
// machine-wide settings a test must not change, such as kernel.panic_on_oops. kubelet reads
// them from files with these values instead, bound over /proc/sys in its own mount namespace.
var kubeletSysctls = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}

// kubeletWrapper is the shell script kubelet starts through, in its new mount namespace
// ($1 the folder of kubeletSysctls' files, then kubelet's command line). /proc is made
// private first, so that the bind mounts never show outside, even where the machine's mounts
// are shared (systemd's default).
const kubeletWrapper = `set -e
view=$1
shift
mount --make-rprivate /proc
for f in "$view"/*; do
	mount --bind "$f" "/proc/sys/$(basename "$f" | tr . /)"
done
exec "$@"
`

// writeSysctlView writes kubeletSysctls as files named after the settings (vm.overcommit_memory)
// and returns their folder.
func (n *node) writeSysctlView() (string, error) {
	dir := n.path("sysctl-view")
	if err := mkdirs(dir); err != nil {
		return "", err
	}
	for name, value := range kubeletSysctls {
		if err := writeFile(filepath.Join(dir, strings.ReplaceAll(name, "/", ".")), value+"\n"); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// makeCgroupRoot makes nodeCgroup in every cgroup hierarchy: kubelet refuses a cgroupRoot
// that does not exist. Under cgroup v1 a new cpuset cgroup has no CPUs or memory nodes, so
// they are copied from the top one.
func makeCgroupRoot() error {
	hierarchies, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return fmt.Errorf("when listing the cgroup hierarchies: %w", err)
	}
	for _, h := range hierarchies {
		if !h.IsDir() {
			continue
		}
		top := filepath.Join(cgroupRoot, h.Name())
		if _, err := os.Stat(filepath.Join(top, "cgroup.procs")); err != nil {
			continue // not a hierarchy's root
		}
		dir := filepath.Join(top, nodeCgroup)
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("when making the cgroup %s: %w", dir, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := os.ReadFile(filepath.Join(top, f))
			if err != nil {
				continue // not the cpuset hierarchy, or cgroup v2
			}
			if strings.TrimSpace(readTrimmed(filepath.Join(dir, f))) != "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, f), v, 0o600); err != nil {
				return fmt.Errorf("when setting %s of %s: %w", f, dir, err)
			}
		}
	}
	return nil
}

// writeKubeletClientCert writes kube-apiserver's client certificate for kubelet's API (a
// system:masters user, so kubelet's webhook authorizer allows logs, exec and port-forward)
// into dir, and returns the paths of the certificate and the key.
func writeKubeletClientCert(dir string, ca *CA) (certPath, keyPath string, err error) {
	kp, err := ca.NewClientCert("kube-apiserver-kubelet-client", "system:masters")
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, "apiserver-kubelet-client.crt"), filepath.Join(dir, "apiserver-kubelet-client.key")
	if err := kp.WriteFiles(certPath, keyPath); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}
