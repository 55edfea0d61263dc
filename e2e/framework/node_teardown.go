package framework

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// nodeTeardownTimeout bounds the teardown's commands (ctr, nft, ip).
const nodeTeardownTimeout = 2 * time.Minute

// teardown stops the node in the order its parts depend on each other, then sweeps: kubelet
// first (it would restart what is stopped next), the containers through containerd (which
// leaves them running when it exits), kube-proxy and its tables, containerd; then whatever
// is left: processes, mounts, cgroups, the bridge, the nftables table, the folder, what was
// added to the machine's shared folders, and the sysctls kubelet changed.
func (n *node) teardown() {
	n.teardownOnce.Do(func() {
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), nodeTeardownTimeout)
		defer cancel()
		var problems []string
		n.dns.stop()
		if n.kubelet != nil {
			n.kubelet.stop()
		}
		if n.containerd != nil {
			if ended, _ := n.containerd.exitError(); !ended {
				if err := n.stopContainers(ctx); err != nil {
					problems = append(problems, err.Error())
				}
			}
		}
		if n.proxy != nil {
			n.proxy.stop()
			for _, err := range flushKubeProxy(ctx) {
				problems = append(problems, err.Error())
			}
		}
		if n.containerd != nil {
			n.containerd.stop()
		}
		removed, errs := sweepNode(ctx)
		for _, err := range errs {
			problems = append(problems, err.Error())
		}
		if n.stopSignals != nil {
			n.stopSignals()
		}
		n.t.Logf("framework: node torn down in %s; swept: %s", time.Since(began).Round(time.Millisecond),
			strings.Join(removed, "; "))
		if len(problems) > 0 {
			n.t.Errorf("framework: tearing the node down: %s", strings.Join(problems, "; "))
		}
	})
}

// finish checks, once every process of the cluster has ended, that the node left nothing on
// the machine (the test fails otherwise), then releases the node lock: after that another
// test binary's node may be starting.
func (n *node) finish() {
	if n.finished {
		return
	}
	n.left = n.leftovers()
	n.finished = true
	n.lock.release()
	if len(n.left) > 0 {
		n.t.Errorf("framework: the node left %d thing(s) on the machine:\n  %s", len(n.left), strings.Join(n.left, "\n  "))
	}
}

// sweepNode removes whatever of a node exists on the machine, whether its run ended well or
// was killed: processes, mounts, cgroups, nftables tables, the bridge, conntrack entries, the
// node's folder, and, by the snapshot saved in that folder, what was added to the shared
// folders and the sysctls that changed. It returns what it removed and what it could not.
func sweepNode(ctx context.Context) (removed []string, errs []error) {
	if procs := killNodeProcesses(); len(procs) > 0 {
		removed = append(removed, fmt.Sprintf("%d process(es): %s", len(procs), strings.Join(procs, ", ")))
	}
	for _, t := range [][2]string{{"inet", nodeNFTable}, {"ip", kubeProxyTable}, {"ip6", kubeProxyTable}} {
		if !nftTableExists(ctx, t[0], t[1]) {
			continue
		}
		if _, err := command(ctx, "", "nft", "delete", "table", t[0], t[1]); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "nftables table "+t[0]+" "+t[1])
	}
	if snap, ok := loadHostSnapshot(); ok {
		did, restoreErrs := snap.restore()
		removed = append(removed, did...)
		errs = append(errs, restoreErrs...)
	}
	if unmounted := unmountUnder(nodeDir); len(unmounted) > 0 {
		removed = append(removed, unmounted...)
	}
	cgroups, err := removeNodeCgroups()
	if cgroups > 0 {
		removed = append(removed, fmt.Sprintf("%d cgroup(s) under %s", cgroups, nodeCgroup))
	}
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", NodeBridge)); err == nil {
		if _, err := command(ctx, "", "ip", "link", "delete", NodeBridge); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, "bridge "+NodeBridge)
		}
	}
	if n := flushConntrack(ctx); n > 0 {
		removed = append(removed, fmt.Sprintf("%d conntrack entr(ies)", n))
	}
	if _, err := os.Stat(nodeDir); err == nil {
		if left := mountsUnder(nodeDir); len(left) > 0 {
			// Removing files through a mount (a bind mount of a host folder) would delete the
			// host's files: leave the folder for a human.
			errs = append(errs, fmt.Errorf("%s still has mounts %v: not removed", nodeDir, left))
		} else if err := os.RemoveAll(nodeDir); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, nodeDir)
		}
	}
	return removed, errs
}

// killNodeProcesses kills (SIGKILL) every process of a node: those naming the node's folder
// on their command line (containerd, its shims, kubelet, kube-proxy) and those in the node's
// cgroups (the containers), and waits briefly until they are gone. It returns them as
// "PID (NAME)".
func killNodeProcesses() []string {
	pids := nodeProcesses()
	procs := make([]string, 0, len(pids))
	for _, pid := range pids {
		procs = append(procs, describeProcess(pid))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	// Gone or not after 5 s, the caller reports what it killed; the poll's timeout is no error here.
	_ = wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) { return len(nodeProcesses()) == 0, nil })
	return procs
}

// describeProcess is "PID (NAME)".
func describeProcess(pid int) string {
	return fmt.Sprintf("%d (%s)", pid, readTrimmed(filepath.Join("/proc", strconv.Itoa(pid), "comm")))
}

// nodeProcesses are the live processes of a node (zombies, which only wait to be reaped,
// excluded).
func nodeProcesses() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if isNodeProcess(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// nodePrograms are the programs that run as part of a node, with its folder on their command
// line (kube-apiserver has it too, for kubelet's certificate, and is not one of them).
var nodePrograms = map[string]bool{
	"containerd": true, "containerd-shim-runc-v2": true, "runc": true, "kubelet": true, "kube-proxy": true,
}

func isNodeProcess(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	stat := readTrimmed(dir + "/stat")
	if i := strings.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return false
	}
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil {
		args := strings.Split(string(cmdline), "\x00")
		if nodePrograms[filepath.Base(args[0])] && strings.Contains(string(cmdline), nodeDir) {
			return true
		}
	}
	// Lines of /proc/PID/cgroup are ID:CONTROLLERS:PATH.
	for line := range strings.SplitSeq(readTrimmed(dir+"/cgroup"), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && (parts[2] == "/"+nodeCgroup || strings.HasPrefix(parts[2], "/"+nodeCgroup+"/")) {
			return true
		}
	}
	return false
}

// mountsUnder lists the mount points at or under the given paths, deepest first.
func mountsUnder(paths ...string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		for _, p := range paths {
			if mp == p || strings.HasPrefix(mp, p+"/") {
				out = append(out, mp)
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder detaches every mount at or under the paths, deepest first, and returns a
// summary of what it unmounted.
func unmountUnder(paths ...string) []string {
	done := unmountAll(paths...)
	if len(done) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d mount(s) under %s", len(done), strings.Join(paths, ", "))}
}

// unmountAll detaches every mount at or under the paths, deepest first, and returns the mount
// points it detached.
func unmountAll(paths ...string) []string {
	var done []string
	// A mount stacked on another shows up once per layer: a few passes get them all.
	for range 5 {
		mps := mountsUnder(paths...)
		if len(mps) == 0 {
			break
		}
		for _, mp := range mps {
			if err := syscall.Unmount(mp, syscall.MNT_DETACH); err == nil {
				done = append(done, mp)
			}
		}
	}
	return done
}

// removeNodeCgroups removes nodeCgroup and everything under it from every hierarchy,
// deepest first (a cgroup is removed with rmdir once it has no process and no child). It
// retries for a few seconds while the kernel finishes with killed processes.
func removeNodeCgroups() (int, error) {
	removed := 0
	var lastErr error
	// After 5 s the caller gets the last error; the poll's timeout adds nothing to it.
	_ = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		lastErr = nil
		for _, d := range nodeCgroupDirs() {
			if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
				lastErr = fmt.Errorf("when removing the cgroup %s: %w", d, err)
				continue
			}
			removed++
		}
		return len(nodeCgroupDirs()) == 0, nil
	})
	return removed, lastErr
}

// nodeCgroupDirs lists nodeCgroup and its descendants in every hierarchy, deepest first.
func nodeCgroupDirs() []string {
	hierarchies, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, h := range hierarchies {
		root := filepath.Join(cgroupRoot, h.Name(), nodeCgroup)
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
	}
	sort.SliceStable(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs
}

// conntrackRanges are the node's address ranges as conntrack(8) filters: the Pods', the
// Services'.
var conntrackRanges = [][]string{
	{"-f", "ipv4", "--orig-src", "10.231.0.0", "--mask-src", "255.255.255.0"},
	{"-f", "ipv4", "--orig-dst", "10.231.0.0", "--mask-dst", "255.255.255.0"},
	{"-f", "ipv4", "--orig-dst", "10.232.0.0", "--mask-dst", "255.255.255.0"},
	{"-f", "ipv6", "--orig-src", "fd10:231::", "--mask-src", "ffff:ffff:ffff:ffff::"},
	{"-f", "ipv6", "--orig-dst", "fd10:231::", "--mask-dst", "ffff:ffff:ffff:ffff::"},
	{"-f", "ipv6", "--orig-dst", "fd10:232::", "--mask-dst", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:0"},
}

// flushConntrack deletes the connection-tracking entries of the node's ranges, which would
// otherwise stay in the kernel for days (established TCP), and returns how many there were.
// Without the conntrack command it does nothing.
func flushConntrack(ctx context.Context) int {
	n := countConntrack(ctx)
	if n == 0 {
		return 0
	}
	for _, r := range conntrackRanges {
		// conntrack exits 1 when no entry matched: not an error here.
		_, _ = command(ctx, "", "conntrack", append([]string{"-D"}, r...)...)
	}
	return n
}

// countConntrack is the number of connection-tracking entries of the node's ranges (0
// without the conntrack command).
func countConntrack(ctx context.Context) int {
	if _, err := exec.LookPath("conntrack"); err != nil {
		return 0
	}
	n := 0
	for _, r := range conntrackRanges {
		out, _ := command(ctx, "", "conntrack", append([]string{"-L"}, r...)...)
		for line := range strings.SplitSeq(out, "\n") {
			if strings.TrimSpace(line) != "" {
				n++
			}
		}
	}
	return n
}
