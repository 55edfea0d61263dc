package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// sharedDirs are the machine's folders that containerd, the CNI plugins and kubelet write to
// whatever their configured roots: shim sockets (/run/containerd/s), CNI result caches
// (/var/lib/cni), device-plugin sockets (/var/lib/kubelet), log symlinks (/var/log/containers),
// network namespaces (/run/netns/cni-*). What the node adds there is removed at teardown;
// what was there before is left alone.
var sharedDirs = []string{
	"/run/containerd", "/var/lib/cni", "/var/lib/kubelet", "/var/log/containers", "/var/log/pods",
	"/opt/containerd", "/etc/cni", "/usr/libexec/kubernetes", netnsDir,
}

// netnsDir holds named network namespaces; only the node's containerd makes cni-* ones here
// (other tests may make others at the same time).
const netnsDir = "/run/netns"

// watchedSysctls are machine-wide settings the node must leave as they were: kubelet would set
// the vm and kernel ones at start (it reads them from its own files instead, see
// kubeletSysctls), kube-proxy the conntrack ones (its configuration says not to), the CNI
// bridge plugin ip_forward (isGateway false). NodeLeftovers reports a difference, and
// teardown writes the old value back.
var watchedSysctls = []string{
	"net/ipv4/ip_forward",
	"net/ipv4/conf/all/forwarding",
	"net/ipv4/conf/default/forwarding",
	"net/ipv6/conf/all/forwarding",
	"net/ipv6/conf/default/forwarding",
	"net/ipv4/conf/all/route_localnet",
	"net/bridge/bridge-nf-call-iptables",
	"net/bridge/bridge-nf-call-ip6tables",
	"net/netfilter/nf_conntrack_max",
	"net/netfilter/nf_conntrack_tcp_timeout_established",
	"net/netfilter/nf_conntrack_tcp_timeout_close_wait",
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
}

// hostSnapshot is the state of the shared folders and watched sysctls before a node starts.
// It is saved in the node's folder, so the sweep of a killed run can restore it too.
type hostSnapshot struct {
	Paths   []string          `json:"paths"`
	Sysctls map[string]string `json:"sysctls"`
}

// snapshotPath is where the snapshot is saved.
func snapshotPath() string { return filepath.Join(nodeDir, "host-snapshot.json") }

// takeHostSnapshot records the shared folders' entries and the watched sysctls.
func takeHostSnapshot() hostSnapshot {
	s := hostSnapshot{Paths: sharedPaths(), Sysctls: map[string]string{}}
	for _, name := range watchedSysctls {
		s.Sysctls[name] = readTrimmed(filepath.Join("/proc/sys", name))
	}
	return s
}

// save writes the snapshot to snapshotPath.
func (s hostSnapshot) save() error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("when encoding the machine's snapshot: %w", err)
	}
	return writeFile(snapshotPath(), string(data))
}

// loadHostSnapshot reads the snapshot a node saved, if there is one.
func loadHostSnapshot() (hostSnapshot, bool) {
	var s hostSnapshot
	data, err := os.ReadFile(snapshotPath())
	if err != nil {
		return s, false
	}
	return s, json.Unmarshal(data, &s) == nil
}

// sharedPaths lists every path under sharedDirs (in netnsDir, the cni-* entries only),
// sorted.
func sharedPaths() []string {
	var paths []string
	for _, root := range sharedDirs {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil //nolint:nilerr // a missing or vanishing folder has nothing to list.
			}
			if root == netnsDir && path != root && !strings.HasPrefix(d.Name(), "cni-") {
				return nil
			}
			paths = append(paths, path)
			return nil
		})
	}
	sort.Strings(paths)
	return paths
}

// newPaths are the paths under sharedDirs that were not there at the snapshot, deepest first.
func (s hostSnapshot) newPaths() []string {
	var out []string
	for _, p := range sharedPaths() {
		if _, found := slices.BinarySearch(s.Paths, p); !found {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// changedSysctls are the watched sysctls whose value differs from the snapshot's, as
// "name: before → now".
func (s hostSnapshot) changedSysctls() []string {
	var out []string
	for _, name := range watchedSysctls {
		before, ok := s.Sysctls[name]
		if !ok {
			continue
		}
		if now := readTrimmed(filepath.Join("/proc/sys", name)); now != before {
			out = append(out, fmt.Sprintf("sysctl %s: %s → %s", strings.ReplaceAll(name, "/", "."), before, now))
		}
	}
	return out
}

// restore unmounts and removes what was added under sharedDirs and writes the watched sysctls
// back. It returns what it did and what failed.
func (s hostSnapshot) restore() (did []string, errs []error) {
	added := s.newPaths()
	if len(added) > 0 {
		if mps := unmountAll(added...); len(mps) > 0 {
			did = append(did, fmt.Sprintf("%d mount(s) under %s", len(mps), strings.Join(touchedRoots(mps), ", ")))
		}
	}
	for _, p := range added {
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
	}
	if len(added) > 0 {
		did = append(did, fmt.Sprintf("%d new path(s) under %s", len(added), strings.Join(touchedRoots(added), ", ")))
	}
	for _, name := range watchedSysctls {
		before, ok := s.Sysctls[name]
		if !ok || before == "" {
			continue
		}
		path := filepath.Join("/proc/sys", name)
		if now := readTrimmed(path); now != before {
			if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
				errs = append(errs, fmt.Errorf("when writing %s back to %s: %w", path, before, err))
				continue
			}
			did = append(did, fmt.Sprintf("sysctl %s %s → %s (restored)", strings.ReplaceAll(name, "/", "."), now, before))
		}
	}
	return did, errs
}

// touchedRoots are the sharedDirs that hold the paths.
func touchedRoots(paths []string) []string {
	var roots []string
	for _, root := range sharedDirs {
		for _, p := range paths {
			if p == root || strings.HasPrefix(p, root+"/") {
				roots = append(roots, root)
				break
			}
		}
	}
	return roots
}
