package testimages

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Addresses of the two network namespaces the test creates, joined by a veth pair and
// nothing else: no packet can leave them.
const (
	podIPv4  = "10.253.7.2"
	peerIPv4 = "10.253.7.1"
	podIPv6  = "fd00:7e57:7::2"
	peerIPv6 = "fd00:7e57:7::1"
)

// TestImagesInNetworkNamespaces runs the images' contents for real, without a container
// runtime: in a "pod" network namespace, the init image's /bin/sh runs the injector's own
// osm-init script (chrooted into the image, with only NET_ADMIN and NET_RAW); then the Envoy
// stand-in (chrooted into its image mounted read-only, uid 1500, the injected command line
// with `envoy` found through the image's PATH, a bootstrap from the project's generator
// mounted at /etc/envoy) and a test app (uid 65532) run there, and a second test app and a
// Zipkin collector run in a "peer" namespace. The collector is the Jaeger image as the chart
// runs it (entrypoint only, JAEGER_LISTEN_HOST, read-only root, user 10001) when
// hack/testbin.sh built Jaeger; else a test app that logs what it is sent. It checks
// the redirect both ways on IPv4 and IPv6 through SO_ORIGINAL_DST, the loop guard, TCP
// half-close, the health listener, span delivery, and the signals.
func TestImagesInNetworkNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces, iptables, chroot")
	}
	for _, tool := range []string{"ip", "setpriv", "unshare", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on this machine", tool)
		}
	}
	archives, o := builtImages(t)
	roots, configs := map[string]string{}, map[string]*v1.ConfigFile{}
	for _, ref := range []string{InitImage, EnvoyStandInImage, TestAppImage, JaegerImage} {
		_, img := openArchive(t, archives[ref].Path)
		roots[ref] = rootfs(t, img)
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		configs[ref] = cfg
	}
	testapp := filepath.Join(roots[TestAppImage], "testapp")
	suffix := strconv.Itoa(os.Getpid() % 100000)
	pod, peer := newNetns(t, "ti-pod-"+suffix), newNetns(t, "ti-peer-"+suffix)
	mustRun(t, "ip", "link", "add", "tip"+suffix, "netns", pod.name, "type", "veth", "peer", "name", "tiq"+suffix, "netns", peer.name)
	for _, c := range []struct {
		ns           *netns
		link, v4, v6 string
	}{{pod, "tip" + suffix, podIPv4, podIPv6}, {peer, "tiq" + suffix, peerIPv4, peerIPv6}} {
		c.ns.mustRun(t, "ip", "addr", "add", c.v4+"/24", "dev", c.link)
		c.ns.mustRun(t, "ip", "-6", "addr", "add", c.v6+"/64", "dev", c.link, "nodad")
		c.ns.mustRun(t, "ip", "link", "set", c.link, "up")
	}

	t.Run("legacy backend", func(t *testing.T) {
		// Another copy of the init image whose plain names are the legacy backend and which
		// has no -nft- restore: the script's fallback.
		_, img := openArchive(t, archives[InitImage].Path)
		root := rootfs(t, img)
		for _, name := range []string{"iptables-nft-restore", "ip6tables-nft-restore", "iptables-restore", "ip6tables-restore"} {
			if err := os.Remove(filepath.Join(root, "usr/sbin", name)); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"iptables-restore", "ip6tables-restore"} {
			if err := os.Symlink("xtables-legacy-multi", filepath.Join(root, "usr/sbin", name)); err != nil {
				t.Fatal(err)
			}
		}
		ns := newNetns(t, "ti-legacy-"+suffix)
		out := runInit(t, ns, root)
		if !strings.Contains(out, "redirected to Envoy (inbound 15003, outbound 15001) with iptables-restore") ||
			!strings.Contains(out, "IPv6 traffic redirected to Envoy with ip6tables-restore") {
			t.Errorf("osm-init with the legacy backend said:\n%s", out)
		}
		checkRules(t, ns, root, "iptables-legacy-save")
		checkRules(t, ns, root, "ip6tables-legacy-save")
	})

	// osm-init, as the kubelet runs it first.
	out := runInit(t, pod, roots[InitImage])
	if !strings.Contains(out, "with iptables-nft-restore") || !strings.Contains(out, "IPv6 traffic redirected to Envoy with ip6tables-nft-restore") {
		t.Errorf("osm-init said:\n%s", out)
	}
	checkRules(t, pod, roots[InitImage], "iptables-save")
	checkRules(t, pod, roots[InitImage], "ip6tables-save")

	// The collector, and the peer's server.
	realJaeger := !o.anyJaegerBinary
	var collector *proc
	if realJaeger {
		// As the chart runs it: its entrypoint, no argument, the image's environment and the
		// chart's JAEGER_LISTEN_HOST, a read-only root and /tmp an empty folder.
		collector = peer.startImage(t, "jaeger", roots[JaegerImage], configs[JaegerImage], []string{"JAEGER_LISTEN_HOST=0.0.0.0"}, nil, nil)
	} else {
		t.Log("no Jaeger binary from hack/testbin.sh: a test app stands in for the collector")
		collector = peer.start(t, "collector", 65532, nil, testapp, "serve", "--port", "9411", "--log-bodies")
	}
	remote := peer.start(t, "remote", 65532, nil, testapp, "serve", "--port", "9090", "--tcp-port", "7070")
	app := pod.start(t, "app", 65532, nil, testapp, "serve", "--port", "8080", "--term-delay", "700ms")

	// The stand-in, with the injected command line, its bootstrap mounted at /etc/envoy.
	cfgDir := shareableDir(t)
	tracing := bootstrap.Defaults("osm-system")
	tracing.Enable, tracing.Address = true, peerIPv4
	g, err := bootstrap.Generate(bootstrap.Settings{ServiceName: "bookbuyer", Tracing: tracing,
		Workload: bootstrap.Workload{Kind: bootstrap.KindDeployment, Name: "bookbuyer"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, bootstrap.BootstrapKey), g.YAML, 0o644); err != nil {
		t.Fatal(err)
	}
	envoy := inject.Parts(&corev1.Pod{}, g, inject.DefaultProxyConfig(), inject.Traffic{}).InitContainers[1]
	argv := slices.Clone(envoy.Command) // [envoy]: found through the image's PATH
	for _, a := range envoy.Args {
		argv = append(argv, strings.ReplaceAll(a, "$(POD_NAME).$(POD_NAMESPACE)", "bookbuyer-1.bookbuyer"))
	}
	standin := pod.startImage(t, "envoy", roots[EnvoyStandInImage], configs[EnvoyStandInImage],
		[]string{"POD_NAME=bookbuyer-1", "POD_NAMESPACE=bookbuyer"}, [][2]string{{cfgDir, bootstrap.EnvoyBootstrapDir}}, argv)
	ready := standin.waitEvent(t, "ready", nil)
	t.Logf("stand-in ready: %v", ready["listeners"])

	// Everything answers before the checks start (Jaeger takes a few seconds).
	waitOK(t, peer, testapp, "http://"+podIPv4+":15021"+bootstrap.HealthReadyPath)
	waitOK(t, pod, testapp, "http://"+peerIPv4+":9090/")
	if realJaeger {
		waitOK(t, pod, testapp, "http://"+peerIPv4+":16686/api/services")
	}

	t.Run("health listener", func(t *testing.T) {
		out := peer.client(t, testapp, "get", "http://["+podIPv6+"]:15021"+bootstrap.HealthReadyPath)
		if !strings.Contains(out, "200 OK") || !strings.Contains(out, "LIVE") {
			t.Errorf("GET /healthz/ready on [%s]:15021:\n%s", podIPv6, out)
		}
	})

	const traceID = "463ac35c9f6413ad48485a3953bb6124"
	t.Run("outbound IPv4, traced", func(t *testing.T) {
		out := pod.client(t, testapp, "get", "-H", "x-b3-traceid: "+traceID, "-H", "x-b3-spanid: a2fb4a1d1a96d312",
			"http://"+peerIPv4+":9090/")
		if !strings.Contains(out, `"remote_addr": "`+podIPv4+":") {
			t.Errorf("the peer's answer:\n%s", out)
		}
		standin.waitEvent(t, "connection", map[string]any{"listener": "outbound", "original_dst": peerIPv4 + ":9090", "local": "127.0.0.1:15001"})
		standin.waitEvent(t, "http_request", map[string]any{"listener": "outbound", "status": float64(200), "trace_id": traceID})
		sent := "span_sent"
		if !realJaeger {
			sent = "span_error" // the test app answers the POST with a 404, after logging it
		}
		ev := standin.waitEvent(t, sent, map[string]any{"trace_id": traceID, "service": "bookbuyer", "kind": "CLIENT"})
		if realJaeger {
			if ev["status"] != float64(202) {
				t.Errorf("Jaeger answered the span with %v", ev["status"])
			}
			checkJaegerTrace(t, pod, testapp, traceID)
		} else {
			collector.waitEvent(t, "request", map[string]any{"method": "POST", "path": "/api/v2/spans"})
			if !strings.Contains(collector.output(), traceID) {
				t.Errorf("the collector did not receive the span:\n%s", collector.output())
			}
		}
	})

	t.Run("outbound IPv6", func(t *testing.T) {
		out := pod.client(t, testapp, "get", "http://["+peerIPv6+"]:9090/")
		if !strings.Contains(out, `"remote_addr": "[`+podIPv6+"]:") {
			t.Errorf("the peer's answer:\n%s", out)
		}
		standin.waitEvent(t, "connection", map[string]any{"listener": "outbound", "original_dst": "[" + peerIPv6 + "]:9090", "local": "[::1]:15001"})
	})

	t.Run("inbound IPv4 and IPv6", func(t *testing.T) {
		for _, c := range []struct{ url, dst, peer string }{
			{"http://" + podIPv4 + ":8080/", podIPv4 + ":8080", peerIPv4},
			{"http://[" + podIPv6 + "]:8080/", "[" + podIPv6 + "]:8080", peerIPv6},
		} {
			out := peer.client(t, testapp, "get", c.url)
			// The app sees the stand-in's connection from the pod's own address, not the peer's.
			if strings.Contains(out, `"remote_addr": "`+c.peer) || strings.Contains(out, `"remote_addr": "[`+c.peer) {
				t.Errorf("%s reached the app directly:\n%s", c.url, out)
			}
			standin.waitEvent(t, "connection", map[string]any{"listener": "inbound", "original_dst": c.dst})
			standin.waitEvent(t, "http_request", map[string]any{"listener": "inbound", "original_dst": c.dst, "status": float64(200)})
		}
		// A kubelet probe goes through, without a span.
		peer.client(t, testapp, "get", "-H", "User-Agent: kube-probe/1.37", "http://"+podIPv4+":8080/healthz")
		standin.waitEvent(t, "http_request", map[string]any{"listener": "inbound", "path": "/healthz", "status": float64(200)})
		standin.waitEvent(t, "span_skipped", map[string]any{"listener": "inbound", "reason": "kubelet probe (the kube-probe route samples 0%)"})
	})

	t.Run("TCP with half-close", func(t *testing.T) {
		out := pod.client(t, testapp, "dial", "--message", "ping", peerIPv4+":7070")
		if out != "ping\n" {
			t.Errorf("the echo through the stand-in: %q", out)
		}
		standin.waitEvent(t, "connection_closed", map[string]any{"original_dst": peerIPv4 + ":7070",
			"bytes_to_upstream": float64(5), "bytes_to_downstream": float64(5)})
	})

	t.Run("loop guard", func(t *testing.T) {
		// The stand-in closes the connection with the client's line unread: the client sees
		// either the end of the stream or a reset, never an answer.
		closed := func(ns *netns, addr string) {
			out, err := ns.run(t, "setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "--", testapp, "dial", addr)
			if (err != nil || out != "") && !strings.Contains(out, "connection reset by peer") {
				t.Errorf("a connection to %s that was not redirected got %q (%v)", addr, out, err)
			}
		}
		closed(peer, podIPv4+":15001")
		standin.waitEvent(t, "connection_refused", map[string]any{"listener": "inbound", "original_dst": podIPv4 + ":15001"})
		closed(pod, "127.0.0.1:15001")
		standin.waitEvent(t, "connection_refused", map[string]any{"listener": "outbound", "original_dst": "127.0.0.1:15001"})
	})

	t.Run("signals", func(t *testing.T) {
		// The app serves on for its --term-delay after SIGTERM, then exits 0.
		began := time.Now()
		app.signal(t, syscall.SIGTERM)
		app.waitEvent(t, "signal", map[string]any{"signal": "SIGTERM"})
		if out := pod.client(t, testapp, "get", "http://"+podIPv4+":8080/healthz"); !strings.Contains(out, "200 OK") {
			t.Errorf("the app stopped serving at SIGTERM: %s", out)
		}
		if code := app.wait(t); code != 0 || time.Since(began) < 700*time.Millisecond {
			t.Errorf("the app exited %d after %s, want 0 after its 700ms term delay", code, time.Since(began))
		}
		// The stand-in logs SIGHUP and goes on; it exits 0 at SIGTERM, at once.
		standin.signal(t, syscall.SIGHUP)
		standin.waitEvent(t, "signal", map[string]any{"signal": "SIGHUP"})
		began = time.Now()
		standin.signal(t, syscall.SIGTERM)
		if code := standin.wait(t); code != 0 || time.Since(began) > 3*time.Second {
			t.Errorf("the stand-in exited %d after %s, want 0 at once", code, time.Since(began))
		}
		standin.waitEvent(t, "signal", map[string]any{"signal": "SIGTERM"})
		standin.waitEvent(t, "exit", map[string]any{"code": float64(0)})
	})
	if testing.Verbose() {
		for _, p := range []*proc{standin, app, remote, collector} {
			t.Logf("%s's output:\n%s", p.name, p.output())
		}
	}
}

// runInit runs the injector's osm-init script with the init image's /bin/sh in ns, chrooted
// into root with /proc mounted (the script reads /proc/net/if_inet6), with NET_ADMIN and
// NET_RAW only (and SYS_CHROOT, which chroot needs to get there).
func runInit(t *testing.T, ns *netns, root string) string {
	t.Helper()
	add := inject.Parts(&corev1.Pod{}, bootstrap.Generated{}, inject.DefaultProxyConfig(), inject.Traffic{})
	init := add.InitContainers[0]
	if init.Name != inject.InitContainerName || len(init.Command) != 3 || init.Command[0] != "/bin/sh" {
		t.Fatalf("the injected init container runs %q", init.Command)
	}
	out, err := ns.run(t, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
		`mount -t proc proc "$1/proc" && exec setpriv --bounding-set -all,+net_admin,+net_raw,+sys_chroot --inh-caps=-all -- chroot "$1" "$2" "$3" "$4"`,
		"sh", root, init.Command[0], init.Command[1], init.Command[2])
	if err != nil {
		t.Fatalf("osm-init: %v\n%s", err, out)
	}
	return out
}

// checkRules lists the nat table with the image's own save command.
func checkRules(t *testing.T, ns *netns, root, save string) {
	t.Helper()
	out, err := ns.run(t, "chroot", root, "/usr/sbin/"+save, "-t", "nat")
	if err != nil {
		t.Fatalf("%s: %v\n%s", save, err, out)
	}
	for _, rule := range []string{
		"-A PREROUTING -p tcp -j PROXY_INBOUND",
		"-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15003",
		"-A PROXY_OUTPUT -m owner --uid-owner 1500 -j RETURN",
		"-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
	} {
		if !strings.Contains(out, rule) {
			t.Errorf("%s lacks %q:\n%s", save, rule, out)
		}
	}
}

// checkJaegerTrace asks Jaeger's query API for the trace until it holds the stand-in's span.
func checkJaegerTrace(t *testing.T, ns *netns, testapp, traceID string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := ns.run(t, "setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "--", testapp, "get",
			"http://"+peerIPv4+":16686/api/traces/"+traceID)
		if err == nil && strings.Contains(out, `"serviceName":"bookbuyer"`) && strings.Contains(out, "envoy-standin") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger has no trace %s with the stand-in's span: %v\n%s", traceID, err, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitOK polls url from ns with the test app until it answers 200.
func waitOK(t *testing.T, ns *netns, testapp, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := ns.run(t, testapp, "get", "--timeout", "2s", url)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered: %v\n%s", url, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// netns is a network namespace the test created, deleted at its end.
type netns struct{ name string }

func newNetns(t *testing.T, name string) *netns {
	t.Helper()
	mustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	n := &netns{name: name}
	n.mustRun(t, "ip", "link", "set", "lo", "up")
	return n
}

// run runs a command in the namespace and returns its combined output.
func (n *netns) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name}, args...)...).CombinedOutput()
	return string(out), err
}

func (n *netns) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := n.run(t, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// client runs the test app as an application would, uid 65532, and returns its stdout.
func (n *netns) client(t *testing.T, testapp string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name, "setpriv", "--reuid=65532", "--regid=65532",
		"--clear-groups", "--", testapp}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("testapp %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// shareableDir is a new folder every user may read (the programs run as non-root users).
func shareableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "testimages-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// proc is a program the test started in a namespace, as uid, with no capabilities.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *framework.SyncBuffer
	done chan struct{}
	code int
}

// start runs a program of the machine's file system in the namespace, as uid.
func (n *netns) start(t *testing.T, name string, uid int, env []string, bin string, args ...string) *proc {
	t.Helper()
	id := strconv.Itoa(uid)
	// ip netns exec and setpriv both exec: the process is the program itself, for signals.
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name, "setpriv", "--reuid=" + id, "--regid=" + id,
		"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return startCmd(t, name, cmd)
}

// startImage runs an image's program in the namespace as a container runtime would, short of
// the other namespaces and cgroups: chrooted into the image's root, mounted read-only (as
// readOnlyRootFilesystem), with an empty tmpfs on /tmp, the binds (machine folder, path in
// the image) read-only, only the image's environment plus env, as the image's user (so with
// no capabilities), running argv (the entrypoint and cmd when nil), whose first word is
// looked up in the image's PATH.
func (n *netns) startImage(t *testing.T, name, root string, cfg *v1.ConfigFile, env []string, binds [][2]string, argv []string) *proc {
	t.Helper()
	if argv == nil {
		argv = append(slices.Clone(cfg.Config.Entrypoint), cfg.Config.Cmd...)
	}
	user := cfg.Config.User
	if !strings.Contains(user, ":") {
		user += ":" + user
	}
	chroot, err := exec.LookPath("chroot")
	if err != nil {
		t.Fatal(err)
	}
	script := `set -e
root=$1; shift
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
while [ "$1" != -- ]; do
  mount --bind "$1" "$root$2"
  mount -o remount,bind,ro "$root$2"
  shift 2
done
shift
exec "$@"`
	args := []string{"netns", "exec", n.name, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", root}
	for _, b := range binds {
		args = append(args, b[0], b[1])
	}
	args = append(args, "--", "env", "-i")
	args = append(args, cfg.Config.Env...)
	args = append(args, env...)
	args = append(args, chroot, "--userspec="+user, root)
	// ip, unshare, sh, env and chroot all exec: the process is the program, for signals.
	return startCmd(t, name, exec.Command("ip", append(args, argv...)...))
}

func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	cmd.Dir = "/"
	p := &proc{name: name, cmd: cmd, out: &framework.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, p.output())
		}
	})
	return p
}

func (p *proc) output() string { return p.out.String() }

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
}

// wait waits for the program to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not exit", p.name)
		return -1
	}
}

// waitEvent waits for a JSON event line with the given event name and fields.
func (p *proc) waitEvent(t *testing.T, event string, fields map[string]any) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, ev := range p.events() {
			if ev["event"] == event && matches(ev, fields) {
				return ev
			}
		}
		select {
		case <-p.done:
			// One last look: the event may have come with the exit.
			for _, ev := range p.events() {
				if ev["event"] == event && matches(ev, fields) {
					return ev
				}
			}
			t.Fatalf("%s exited (%d) without a %s event with %v:\n%s", p.name, p.code, event, fields, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s logged no %s event with %v:\n%s", p.name, event, fields, p.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func matches(ev, fields map[string]any) bool {
	for k, v := range fields {
		if fmt.Sprint(ev[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// events are the JSON lines of the output; other lines are skipped.
func (p *proc) events() []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.output()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			out = append(out, ev)
		}
	}
	return out
}
