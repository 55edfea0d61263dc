package framework

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// criNamespace is the containerd namespace of kubelet's containers and images.
const criNamespace = "k8s.io"

// containerdSocket is the path of the node's containerd socket.
func (n *node) containerdSocket() string { return n.path("containerd.sock") }

// containerdConfig is the node's containerd configuration (version 2, containerd 1.6 and
// 1.7): every folder in the node's own, the CRI plugin with the settings this machine needs.
//
//   - restrict_oom_score_adj: the machine lacks CAP_SYS_RESOURCE; without it runc fails to
//     lower a sandbox's oom_score_adj and every Pod fails to start;
//   - sandbox_image: a locally imported pause image, never pulled;
//   - SystemdCgroup false: kubelet's cgroupDriver is cgroupfs;
//   - the runc state (Root) in the node's folder rather than /run/containerd/runc;
//   - the streaming server (exec, logs -f, port-forward) on the node's address.
func (n *node) containerdConfig(cniBin, snapshotter string) string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = %[3]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = %[5]q
  stream_server_address = %[6]q
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = %[7]q
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[8]q

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[9]q
    conf_dir = %[10]q
`, n.path("containerd", "root"), n.path("containerd", "state"), n.containerdSocket(), n.path("containerd", "opt"),
		SandboxImage, NodeIP, snapshotter, n.path("runc"), cniBin, n.path("cni", "net.d"))
}

// startContainerd writes the configuration, starts containerd and waits until its CRI plugin
// is loaded.
func (n *node) startContainerd(ctx context.Context) error {
	cniBin, err := cniBinDir()
	if err != nil {
		return fmt.Errorf("a real node needs %w", err)
	}
	snapshotter := "overlayfs"
	if err := checkOverlay(n.path("overlay-check")); err != nil {
		n.t.Logf("framework: overlay mounts fail here (%v): containerd uses the native snapshotter", err)
		snapshotter = "native"
	}
	config := n.path("containerd.toml")
	if err := writeFile(config, n.containerdConfig(cniBin, snapshotter)); err != nil {
		return err
	}
	n.snapshotter = snapshotter
	p, err := n.r.start("containerd", "containerd", []string{"--config=" + config, "--log-level=info"})
	if err != nil {
		return err
	}
	n.containerd = p
	return n.r.waitFor(ctx, "containerd's CRI plugin", func(ctx context.Context) (bool, error) {
		out, err := n.ctr(ctx, "plugins", "ls")
		if err != nil {
			return false, err
		}
		for line := range strings.SplitSeq(out, "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == "io.containerd.grpc.v1" && f[1] == "cri" {
				if f[len(f)-1] != "ok" {
					return false, fmt.Errorf("%w: containerd's CRI plugin did not load (%s): see containerd.log",
						errPermanent, f[len(f)-1])
				}
				return true, nil
			}
		}
		return false, fmt.Errorf("no CRI plugin listed yet")
	})
}

// checkOverlay mounts an overlay file system in dir and unmounts it: containerd's overlayfs
// snapshotter needs that, and some kernels or file systems refuse it.
func checkOverlay(dir string) error {
	lower, upper, work, merged := dir+"/lower", dir+"/upper", dir+"/work", dir+"/merged"
	if err := mkdirs(lower, upper, work, merged); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return err
	}
	return syscall.Unmount(merged, 0)
}

// ctr runs containerd's client against the node's containerd, in the CRI namespace.
func (n *node) ctr(ctx context.Context, args ...string) (string, error) {
	return command(ctx, "", "ctr", append([]string{"--address", n.containerdSocket(), "--namespace", criNamespace}, args...)...)
}

// importImage imports one OCI image archive (ctr imports one archive per call and ignores
// further arguments), unpacked for the CRI plugin's snapshotter.
func (n *node) importImage(ctx context.Context, archive string) error {
	if _, err := os.Stat(archive); err != nil {
		return fmt.Errorf("when importing an image: %w", err)
	}
	if _, err := n.ctr(ctx, "images", "import", "--snapshotter", n.snapshotter, archive); err != nil {
		return fmt.Errorf("when importing %s into the node's containerd: %w", archive, err)
	}
	return nil
}

// stopContainers kills and deletes every task and container of the CRI namespace. containerd
// does not stop them when it exits, and kubelet, stopped first, can no longer restart them.
// A task that is already gone (killing a Pod's sandbox ends its other containers) is not an
// error.
func (n *node) stopContainers(ctx context.Context) error {
	out, err := n.ctr(ctx, "tasks", "list", "--quiet")
	if err != nil {
		return err
	}
	tasks := strings.Fields(out)
	for _, id := range tasks {
		_, _ = n.ctr(ctx, "tasks", "kill", "--all", "--signal", "SIGKILL", id)
	}
	var errs []string
	for _, id := range tasks {
		if _, err := n.ctr(ctx, "tasks", "delete", "--force", id); err != nil && !strings.Contains(err.Error(), "not found") {
			errs = append(errs, err.Error())
		}
	}
	out, err = n.ctr(ctx, "containers", "list", "--quiet")
	if err != nil {
		return err
	}
	for _, id := range strings.Fields(out) {
		if _, err := n.ctr(ctx, "containers", "delete", id); err != nil && !strings.Contains(err.Error(), "not found") {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("when stopping the node's containers: %s", strings.Join(errs, "; "))
	}
	return nil
}
