//go:build linux

// Command launcher is the last step of a container runtime starting osm-init's container,
// for e2e/testimages' namespace test, which no command-line tool does in one go (chroot needs
// CAP_SYS_CHROOT, which the container must not keep):
//
//	launcher ROOT PROCMODE CAPMODE [--bind=SOURCE:PATH ...] PROGRAM ARGS...
//
// Run in a mount namespace of its own (unshare --mount), it mounts ROOT read-only on itself
// (readOnlyRootFilesystem), /proc and the binds under it, chroots into ROOT, drops every
// capability but NET_ADMIN (or all of them) from the bounding set, sets no_new_privs
// (allowPrivilegeEscalation: false), and executes PROGRAM, a path in the image, as uid 0,
// which then holds exactly the capabilities left in the bounding set: the injected
// container's securityContext, capabilities drop ALL and add NET_ADMIN.
//
// PROCMODE is procfs (/proc as a runtime mounts it) or no-ipv6 (an empty tmpfs: what a
// kernel without IPv6 shows a program that looks for /proc/net/if_inet6). CAPMODE is
// net_admin or none. It exits 125 when it cannot launch.
//
// It is a program of its own, not the test binary run again, because the test binary
// (built with the race detector, with Kubernetes' packages in it) takes half a second to
// start, for each of osm-init's runs.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// bindFlag, before the program, binds a folder or file of the machine into the image:
// --bind=SOURCE:PATH, as a container's volume mounts (and the termination log) are.
const bindFlag = "--bind="

func main() {
	if err := launch(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		os.Exit(125)
	}
}

func launch(args []string) error {
	if len(args) < 4 {
		return fmt.Errorf("want ROOT PROCMODE CAPMODE [--bind=SOURCE:PATH ...] PROGRAM ARGS..., got %q", args)
	}
	root, procMode, capMode, argv := args[0], args[1], args[2], args[3:]
	var binds [][2]string
	for len(argv) > 0 && strings.HasPrefix(argv[0], bindFlag) {
		src, dst, ok := strings.Cut(strings.TrimPrefix(argv[0], bindFlag), ":")
		if !ok {
			return fmt.Errorf("%q is not --bind=SOURCE:PATH", argv[0])
		}
		binds = append(binds, [2]string{src, dst})
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return errors.New("no program to run")
	}
	// Capabilities are a thread's: the thread that drops them must be the one that executes.
	runtime.LockOSThread()
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding the root: %w", err)
	}
	if err := unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("making the root read-only: %w", err)
	}
	proc := filepath.Join(root, "proc")
	switch procMode {
	case "procfs":
		if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mounting /proc: %w", err)
		}
	case "no-ipv6":
		if err := unix.Mount("tmpfs", proc, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0555"); err != nil {
			return fmt.Errorf("mounting an empty /proc: %w", err)
		}
	default:
		return fmt.Errorf("unknown /proc mode %q", procMode)
	}
	for _, b := range binds {
		if err := unix.Mount(b[0], filepath.Join(root, b[1]), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("binding %s at %s: %w", b[0], b[1], err)
		}
	}
	if err := unix.Chroot(root); err != nil {
		return fmt.Errorf("chroot %s: %w", root, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	keep := map[string]uintptr{"net_admin": unix.CAP_NET_ADMIN, "none": ^uintptr(0)}
	kept, ok := keep[capMode]
	if !ok {
		return fmt.Errorf("unknown capability mode %q", capMode)
	}
	// Every capability but the one kept, CAP_SETPCAP (which dropping needs) last.
	for c := uintptr(0); ; c++ {
		if c == kept || c == unix.CAP_SETPCAP {
			continue
		}
		err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // past the kernel's last capability
		}
		if err != nil {
			return fmt.Errorf("dropping capability %d: %w", c, err)
		}
	}
	if kept != unix.CAP_SETPCAP {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, unix.CAP_SETPCAP, 0, 0, 0); err != nil {
			return fmt.Errorf("dropping CAP_SETPCAP: %w", err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	return syscall.Exec(argv[0], argv, []string{"PATH=/"})
}
