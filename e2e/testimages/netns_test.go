package testimages

import (
	"net/netip"
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
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Addresses of the two network namespaces the test creates, joined by a veth pair and
// nothing else: no packet can leave them. The peer has a second address of each family in a
// range of its own (altRange), which the redirect excludes or includes.
const (
	podIPv4      = "10.253.7.2"
	peerIPv4     = "10.253.7.1"
	peerAltIPv4  = "10.253.7.65"
	altRangeIPv4 = "10.253.7.64/26"
	podIPv6      = "fd00:7e57:7::2"
	peerIPv6     = "fd00:7e57:7::1"
	peerAltIPv6  = "fd00:7e57:7::65"
	altRangeIPv6 = "fd00:7e57:7::40/122"
)

// The pod's traffic settings (exclusions), and two with outbound inclusions in one family
// each; the injector turns them into osm-init's command line.
var (
	exclusions = inject.Traffic{
		InboundPortExclusions:  []uint16{8081},
		OutboundPortExclusions: []uint16{9091},
		OutboundIPExclusions:   []netip.Prefix{netip.MustParsePrefix(altRangeIPv4), netip.MustParsePrefix(altRangeIPv6)},
	}
	inclusionsIPv4 = inject.Traffic{OutboundIPInclusions: []netip.Prefix{netip.MustParsePrefix(altRangeIPv4)}}
	inclusionsIPv6 = inject.Traffic{OutboundIPInclusions: []netip.Prefix{netip.MustParsePrefix(altRangeIPv6)}}
)

// TestImagesInNetworkNamespaces runs the images' contents for real, without a container
// runtime. osm-init runs from its image as the injected container would (chrooted into it,
// uid 0 with NET_ADMIN alone, the redirect's flags as arguments): first alone in scratch
// namespaces (without NET_ADMIN, on a kernel without IPv6, with the kernel refusing the IPv6
// table), then twice in a "pod" namespace. There the Envoy stand-in (chrooted into its image
// mounted read-only, uid 1500, the injected command line with `envoy` found through the
// image's PATH, a bootstrap from the project's generator mounted at /etc/envoy) and a test
// app (uid 65532) run, and a second test app and a Zipkin collector run in a "peer"
// namespace. The collector is the Jaeger image as the chart runs it (entrypoint only,
// JAEGER_LISTEN_HOST, read-only root, user 10001) when hack/testbin.sh built Jaeger; else a
// test app that logs what it is sent.
//
// Where each connection ends up is what is checked, in both families: through the stand-in
// (which reads the original destination with SO_ORIGINAL_DST, as Envoy's original_dst
// listener filter does) or around it, for every rule of the redirect; then TCP half-close,
// the loop guard, span delivery and the signals.
func TestImagesInNetworkNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces, nf_tables, chroot")
	}
	for _, tool := range []string{"ip", "setpriv", "unshare", "chroot", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on this machine", tool)
		}
	}
	archives, o := builtImages(t)
	roots, configs := map[string]string{}, map[string]*v1.ConfigFile{}
	for _, ref := range []string{EnvoyStandInImage, TestAppImage, JaegerImage} {
		roots[ref], configs[ref] = imageRoot(t, archives[ref])
	}
	initImg := newInitImage(t, archives[InitImage])
	// The test app also runs outside its image, as the clients: from a folder every user can
	// reach (the kept roots are under the checkout, which may not be).
	testapp := filepath.Join(shareableDir(t), "testapp")
	if data, err := os.ReadFile(filepath.Join(roots[TestAppImage], "testapp")); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(testapp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	suffix := strconv.Itoa(os.Getpid() % 100000)
	pod, peer := newNetns(t, "ti-pod-"+suffix), newNetns(t, "ti-peer-"+suffix)
	mustRun(t, "ip", "link", "add", "tip"+suffix, "netns", pod.name, "type", "veth", "peer", "name", "tiq"+suffix, "netns", peer.name)
	for _, c := range []struct {
		ns   *netns
		link string
		v4   []string
		v6   []string
	}{{pod, "tip" + suffix, []string{podIPv4}, []string{podIPv6}}, {peer, "tiq" + suffix, []string{peerIPv4, peerAltIPv4}, []string{peerIPv6, peerAltIPv6}}} {
		for _, a := range c.v4 {
			c.ns.mustRun(t, "ip", "addr", "add", a+"/24", "dev", c.link)
		}
		for _, a := range c.v6 {
			c.ns.mustRun(t, "ip", "-6", "addr", "add", a+"/64", "dev", c.link, "nodad")
		}
		c.ns.mustRun(t, "ip", "link", "set", c.link, "up")
	}

	// The collector first: Jaeger takes seconds to start, which the checks of osm-init alone
	// use.
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

	t.Run("osm-init alone", func(t *testing.T) { checkInitAlone(t, initImg, testapp, suffix) })

	// osm-init, as the kubelet runs it first; then again, as when the kubelet recreates the
	// pod's sandbox and the network namespace survives.
	out := initImg.mustRun(t, pod, exclusions)
	for _, want := range []string{"osm-init: IPv4 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090,8081;",
		"osm-init: IPv6 traffic redirected to Envoy: inbound TCP to 15003 except to ports 15021,15000,15090,8081;"} {
		if !strings.Contains(out, want) {
			t.Errorf("osm-init did not say %q:\n%s", want, out)
		}
	}
	rules := pod.mustRun(t, "nft", "list", "ruleset")
	if again := initImg.mustRun(t, pod, exclusions); again != out {
		t.Errorf("the second run said\n%s\nthe first one\n%s", again, out)
	}
	if again := pod.mustRun(t, "nft", "list", "ruleset"); again != rules {
		t.Errorf("after a second run, the rules are\n%s\nafter the first one\n%s", again, rules)
	}
	if n := strings.Count(rules, "redirect to :"); n != 4 || strings.Count(rules, "table ") != 2 {
		t.Errorf("%d redirect rules, want 4 (two tables, each redirecting in and out):\n%s", n, rules)
	}

	remote := peer.start(t, "remote", 65532, nil, testapp, "serve", "--port", "9090", "--port", "9091", "--tcp-port", "7070")
	app := pod.start(t, "app", 65532, nil, testapp, "serve", "--port", "8080", "--port", "8081", "--term-delay", "700ms")

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
	envoy := inject.Parts(&corev1.Pod{}, g, inject.DefaultProxyConfig(), exclusions).InitContainers[1]
	argv := slices.Clone(envoy.Command) // [envoy]: found through the image's PATH
	for _, a := range envoy.Args {
		argv = append(argv, strings.ReplaceAll(a, "$(POD_NAME).$(POD_NAMESPACE)", "bookbuyer-1.bookbuyer"))
	}
	// The run volume osm-init filled, where Envoy finds its bootstrap (a link into /etc/envoy).
	if err := os.MkdirAll(filepath.Join(roots[EnvoyStandInImage], inject.RunDir), 0o755); err != nil {
		t.Fatal(err)
	}
	standin := pod.startImage(t, "envoy", roots[EnvoyStandInImage], configs[EnvoyStandInImage],
		[]string{"POD_NAME=bookbuyer-1", "POD_NAMESPACE=bookbuyer"},
		[][2]string{{cfgDir, bootstrap.EnvoyBootstrapDir}, {initImg.runDir, inject.RunDir}}, argv)
	ready := standin.waitEvent(t, "ready", nil)
	t.Logf("stand-in ready: %v", ready["listeners"])

	// Everything answers before the checks start (Jaeger takes a few seconds).
	waitOK(t, peer, testapp, "http://"+podIPv4+":15021"+bootstrap.HealthReadyPath)
	waitOK(t, pod, testapp, "http://"+peerIPv4+":9090/")
	if realJaeger {
		waitOK(t, pod, testapp, "http://"+peerIPv4+":16686/api/services")
	}

	m := &mesh{pod: pod, peer: peer, testapp: testapp, standin: standin}
	t.Run("redirect", m.checkExclusions)
	t.Run("outbound inclusions", func(t *testing.T) {
		initImg.mustRun(t, pod, inclusionsIPv4)
		m.checkInclusions(t, ipv4, ipv6)
		initImg.mustRun(t, pod, inclusionsIPv6)
		m.checkInclusions(t, ipv6, ipv4)
		initImg.mustRun(t, pod, exclusions)
		if again := pod.mustRun(t, "nft", "list", "ruleset"); again != rules {
			t.Errorf("back to the pod's redirect, the rules are\n%s\nwant\n%s", again, rules)
		}
	})

	const traceID = "463ac35c9f6413ad48485a3953bb6124"
	t.Run("outbound IPv4, traced", func(t *testing.T) {
		out := pod.client(t, testapp, "get", "-H", "x-b3-traceid: "+traceID, "-H", "x-b3-spanid: a2fb4a1d1a96d312",
			"http://"+peerIPv4+":9090/")
		if !strings.Contains(out, `"remote_addr": "`+podIPv4+":") {
			t.Errorf("the peer's answer:\n%s", out)
		}
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

	t.Run("kubelet probe", func(t *testing.T) {
		// A kubelet probe goes through the inbound listener, without a span.
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
