package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/e2e/testimages"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// patchTracingOff is what the test patches before the guide's patch (a), so that the
// guide's patch changes the effective settings: tracing off, then the guide turns it on with
// its address, port and endpoint.
const patchTracingOff = `kubectl patch meshconfig osm-mesh-config -n osm-system -p '{"spec":{"observability":{"tracing":{"enable":false}}}}' --type=merge`

// spans checks that the stand-ins' spans of the redirect step went pod -> the jaeger Service
// (by its DNS name) -> Jaeger, which lists the workloads' service names. The spans are the
// stand-in's, not Envoy's: what runs for real is the path to the collector and the
// bootstrap's address, port and endpoint; Envoy's tracer itself is config checked.
func (m *mesh) spans(ctx context.Context, t *testing.T) {
	buyer := m.podOf(ctx, t, buyerNS, "bookbuyer")
	var sent []event
	for _, e := range m.events(ctx, t, buyerNS, buyer.Name, inject.EnvoyContainerName) {
		switch e.Event {
		case "span_sent":
			sent = append(sent, e)
		case "span_error":
			t.Errorf("bookbuyer's stand-in could not send a span: %s", e)
		}
	}
	if len(sent) == 0 {
		t.Fatalf("bookbuyer's stand-in sent no span")
	}
	if e := sent[0]; e.Status != http.StatusAccepted || !strings.Contains(e.Collector, "jaeger.osm-system.svc.cluster.local:9411/api/v2/spans") {
		t.Errorf("span sent to %s with status %d, want Jaeger's 202 at jaeger.osm-system.svc.cluster.local:9411/api/v2/spans", e.Collector, e.Status)
	}
	ui := m.forwardJaeger(ctx, t)
	framework.Eventually(ctx, t, "Jaeger to list bookbuyer and bookstore", func() error {
		body, err := httpGet(ctx, "http://"+ui+"/api/services")
		if err != nil {
			return err
		}
		var services struct {
			Data []string `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &services); err != nil {
			return fmt.Errorf("%w: %s", err, body)
		}
		for _, s := range []string{"bookbuyer", "bookstore"} {
			if !slices.Contains(services.Data, s) {
				return fmt.Errorf("%w: services %v", errNotYet, services.Data)
			}
		}
		return nil
	})
}

// forwardJaeger runs the guide's port-forward to the Jaeger pod's UI port (a free local
// port instead of 16686) through the kubelet, and returns 127.0.0.1:PORT.
func (m *mesh) forwardJaeger(ctx context.Context, t *testing.T) string {
	t.Helper()
	port, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Replace(framework.GuidePortForward, "16686:16686", strconv.Itoa(port)+":16686", 1)
	out := &framework.SyncBuffer{}
	cmd := m.sh.Command(context.Background(), script)
	cmd.Stdout, cmd.Stderr = out, out
	p := framework.StartBackground(t, cmd)
	t.Cleanup(p.Stop)
	want := fmt.Sprintf("Forwarding from 127.0.0.1:%d -> 16686", port)
	framework.Eventually(ctx, t, "kubectl port-forward to Jaeger", func() error {
		if err := p.Exited(); err != nil {
			t.Fatalf("kubectl port-forward ended: %v\n%s", err, out)
		}
		if !strings.Contains(out.String(), want) {
			return errNotYet
		}
		return nil
	})
	return "127.0.0.1:" + strconv.Itoa(port)
}

// proxyGet runs osm proxy get through the kubelet's real port-forward to the stand-in's
// admin port.
func (m *mesh) proxyGet(ctx context.Context, t *testing.T) {
	buyer := m.podOf(ctx, t, buyerNS, "bookbuyer")
	file := filepath.Join(t.TempDir(), "bookbuyer-config_dump.json")
	m.sh.OK(t, strings.NewReplacer("<pod-namespace>", buyerNS, "<pod-name>", buyer.Name, "<file-name>", file).
		Replace(framework.GuideConfigDump))
	dump, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	framework.GuideConfigDumpExcerpt(t, string(dump))
	if out := m.sh.OK(t, "osm proxy get ready -n "+buyerNS+" "+buyer.Name); out != "LIVE\n" {
		t.Errorf("osm proxy get ready = %q, want LIVE", out)
	}
}

// workloadHashes are the bootstrap-hash labels of the three workloads' pods.
func (m *mesh) workloadHashes(ctx context.Context, t *testing.T) map[string]string {
	t.Helper()
	hashes := map[string]string{}
	for _, w := range [][2]string{{buyerNS, "bookbuyer"}, {storeNS, "bookstore"}, {storeNS, "bookwarehouse"}} {
		hashes[w[1]] = m.podOf(ctx, t, w[0], w[1]).Labels[bootstrap.BootstrapHashKey]
	}
	return hashes
}

// waitRolled waits until each workload runs one Ready pod whose bootstrap hash differs from
// before, injected, its stand-in started from the new bootstrap with the tracer wanted ("" for
// none).
func (m *mesh) waitRolled(ctx context.Context, t *testing.T, before map[string]string, tracer string) map[string]string {
	t.Helper()
	began := time.Now()
	after := map[string]string{}
	for _, w := range [][2]string{{buyerNS, "bookbuyer"}, {storeNS, "bookstore"}, {storeNS, "bookwarehouse"}} {
		var p *corev1.Pod
		framework.Eventually(ctx, t, w[1]+" rolled to a new bootstrap", func() error {
			p = m.podOf(ctx, t, w[0], w[1])
			if h := p.Labels[bootstrap.BootstrapHashKey]; h == before[w[1]] {
				return fmt.Errorf("%w: still bootstrap %s", errNotYet, h)
			}
			return nil
		})
		if err := injected(p); err != nil {
			t.Error(err)
		}
		ready, err := firstEvent(m.events(ctx, t, p.Namespace, p.Name, inject.EnvoyContainerName), "ready")
		if err != nil {
			t.Fatalf("%s's new stand-in: %v", w[1], err)
		}
		if ready.Tracer != tracer {
			t.Errorf("%s's new sidecar runs with tracer %q, want %q", w[1], ready.Tracer, tracer)
		}
		after[w[1]] = p.Labels[bootstrap.BootstrapHashKey]
	}
	t.Logf("the three workloads rolled in %s", time.Since(began).Round(time.Millisecond))
	return after
}

// patchRolls turns tracing off, then runs the guide's patch: each time every workload rolls
// and its new pod is Ready with the new bootstrap.
func (m *mesh) patchRolls(ctx context.Context, t *testing.T) {
	before := m.workloadHashes(ctx, t)
	m.sh.OK(t, patchTracingOff)
	off := m.waitRolled(ctx, t, before, "")
	m.sh.OK(t, framework.GuidePatch)
	framework.GuideTracingIs(t, m.sh.OK(t, framework.GuideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	m.waitRolled(ctx, t, off, "envoy.tracers.zipkin")
}

// heal stops the injector (scaled to 0), creates a workload, which is admitted without the
// sidecar (failurePolicy Ignore), starts the injector again and waits until the workload's
// pod is replaced by an injected one.
func (m *mesh) heal(ctx context.Context, t *testing.T) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	m.sh.OK(t, "kubectl scale deployment osm-injector -n osm-system --replicas=0")
	framework.Eventually(ctx, t, "no osm-injector pod left", func() error {
		pods, err := m.c.Clientset.CoreV1().Pods(bootstrap.DefaultNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=osm-injector"})
		if err != nil {
			return err
		}
		if len(pods.Items) > 0 {
			return fmt.Errorf("%w: %d pods", errNotYet, len(pods.Items))
		}
		return nil
	})
	clerk := strings.NewReplacer("TESTAPP", testimages.TestAppImage).Replace(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: bookclerk, namespace: bookstore}
spec:
  replicas: 1
  selector: {matchLabels: {app: bookclerk}}
  template:
    metadata: {labels: {app: bookclerk}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: bookclerk
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [serve, --port, "8080"]
`)
	m.sh.OK(t, "kubectl apply -f - <<'EOF'\n"+clerk+"\nEOF")
	p := m.podOf(ctx, t, storeNS, "bookclerk")
	if err := injected(p); err == nil {
		t.Fatalf("bookclerk's pod was injected although no injector ran")
	}
	began := time.Now()
	m.sh.OK(t, "kubectl scale deployment osm-injector -n osm-system --replicas=2")
	framework.Eventually(ctx, t, "bookclerk healed: an injected pod", func() error {
		p = m.podOf(ctx, t, storeNS, "bookclerk")
		return injected(p)
	})
	t.Logf("bookclerk healed %s after the injector was scaled up again", time.Since(began).Round(time.Millisecond))
}

// termination deletes the bookstore pod while following its app's and its sidecar's logs,
// and records who got SIGTERM when. The app has a 1 s preStop hook and keeps serving 2 s
// after SIGTERM. The checks are the order the drain relies on: the sidecar's preStop hook
// (osm-init drain) reaches the admin interface (the stand-in logs healthcheck_fail) as the
// pod starts terminating, before the app gets SIGTERM; the sidecar gets SIGTERM only after
// the app has exited and after the drain's hold. What Envoy does on /healthcheck/fail (drain
// its inbound connections) is config checked (bootstrap's rules), not shown here: the
// stand-in relays bytes and has no HTTP connection of its own to drain.
func (m *mesh) termination(ctx context.Context, t *testing.T) {
	store := m.podOf(ctx, t, storeNS, "bookstore")
	follow := func(container string) (*framework.SyncBuffer, *framework.Background) {
		out := &framework.SyncBuffer{}
		cmd := exec.CommandContext(ctx, m.c.Binaries.Kubectl, "--kubeconfig="+m.c.KubeconfigPath,
			"logs", "-f", "-n", storeNS, store.Name, "-c", container)
		cmd.Stdout = out
		p := framework.StartBackground(t, cmd)
		t.Cleanup(p.Stop)
		framework.Eventually(ctx, t, "kubectl logs -f of "+container, func() error {
			if len(parseEvents(out.String())) == 0 {
				return errNotYet
			}
			return nil
		})
		return out, p
	}
	appLog, appFollow := follow("bookstore")
	envoyLog, envoyFollow := follow(inject.EnvoyContainerName)
	deleted := time.Now()
	if err := m.c.Clientset.CoreV1().Pods(storeNS).Delete(ctx, store.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*framework.Background{appFollow, envoyFollow} {
		framework.Eventually(ctx, t, "the followed containers to end", func() error {
			if f.Exited() == nil {
				return errNotYet
			}
			return nil
		})
	}
	app, envoy := parseEvents(appLog.String()), parseEvents(envoyLog.String())
	appTerm, err1 := firstEvent(app, "signal")
	appExit, err2 := firstEvent(app, "exit")
	envoyTerm, err3 := firstEvent(envoy, "signal")
	envoyExit, err4 := firstEvent(envoy, "exit")
	drain, err5 := firstEvent(envoy, "healthcheck_fail")
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			t.Fatalf("termination: %v\napp:\n%s\nenvoy:\n%s", err, appLog, envoyLog)
		}
	}
	t.Logf("observed at pod deletion: envoy drain +%s, app SIGTERM +%s (after its 1 s preStop hook), app exit +%s, envoy %s +%s, envoy exit +%s",
		drain.Time.Sub(deleted).Round(time.Millisecond),
		appTerm.Time.Sub(deleted).Round(time.Millisecond), appExit.Time.Sub(deleted).Round(time.Millisecond),
		envoyTerm.Signal, envoyTerm.Time.Sub(deleted).Round(time.Millisecond), envoyExit.Time.Sub(deleted).Round(time.Millisecond))
	if appTerm.Signal != "SIGTERM" || envoyTerm.Signal != "SIGTERM" {
		t.Errorf("signals: app %s, envoy %s, want SIGTERM", appTerm.Signal, envoyTerm.Signal)
	}
	if !envoyTerm.Time.After(appExit.Time) {
		t.Errorf("the sidecar got SIGTERM at %s, before the app exited at %s", envoyTerm.Time, appExit.Time)
	}
	if !drain.Time.Before(appTerm.Time) {
		t.Errorf("the drain reached the sidecar at %s, not before the app's SIGTERM at %s", drain.Time, appTerm.Time)
	}
	if held := envoyTerm.Time.Sub(drain.Time); held < redirect.DrainHold-500*time.Millisecond {
		t.Errorf("the sidecar got SIGTERM %s after the drain, want at least the hold, %s", held, redirect.DrainHold)
	}
}

// httpPost posts an empty body from the test (on the node) to a pod's address.
func httpPost(ctx context.Context, url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, http.NoBody)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("POST %s: reading the answer: %w", url, err)
	}
	if resp.StatusCode >= 300 {
		return "", fmt.Errorf("POST %s: %s %s", url, resp.Status, body)
	}
	return string(body), nil
}
