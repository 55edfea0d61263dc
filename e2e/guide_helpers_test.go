package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// guideJaegerUIPort is the local port of the guide's port-forward.
const guideJaegerUIPort = 16686

// guideStep runs one step of the guide as a subtest; the scenario stops at the first failed
// step, since the next ones build on it.
func guideStep(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// guidePortForwardJaeger runs the guide's port-forward block in the background, forwarding localPort to
// the Jaeger pod's podPort (the guide's block is 16686:16686), and waits until kubectl
// listens. It returns "localhost:PORT"; the forward ends with the test.
func guidePortForwardJaeger(ctx context.Context, t *testing.T, s *framework.Shell, localPort, podPort int) string {
	t.Helper()
	script := strings.Replace(framework.GuidePortForward, "16686:16686", fmt.Sprintf("%d:%d", localPort, podPort), 1)
	out := &framework.SyncBuffer{}
	cmd := s.Command(context.Background(), script)
	cmd.Stdout, cmd.Stderr = out, out
	p := framework.StartBackground(t, cmd)
	t.Cleanup(p.Stop)
	want := fmt.Sprintf("Forwarding from 127.0.0.1:%d -> %d", localPort, podPort)
	for !strings.Contains(out.String(), want) {
		if err := p.Exited(); err != nil {
			t.Fatalf("$ %s\nended: %v\n%s", script, err, out.String())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("$ %s\ndid not forward within the time: %v\n%s", script, ctx.Err(), out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("$ %s &\n%s", script, out.String())
	return net.JoinHostPort("localhost", strconv.Itoa(localPort))
}

// guideInjector are the local ports of an osm-injector run outside the cluster.
type guideInjector struct {
	webhook, health int
}

func guideInjectorPorts(t *testing.T) guideInjector {
	t.Helper()
	var ports [2]int
	for i := range ports {
		p, err := framework.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	return guideInjector{webhook: ports[0], health: ports[1]}
}

// url is the webhook's base URL, for osm.webhook.url and --webhook-url.
func (in guideInjector) url() string {
	return "https://127.0.0.1:" + strconv.Itoa(in.webhook)
}

// guideStartInjector runs the built osm-injector as a local process, as the demo does, until
// the test ends, and waits until the API server really calls it: a dry-run pod of a labelled
// namespace comes back with the envoy container.
func guideStartInjector(ctx context.Context, t *testing.T, bins framework.Commands, c *framework.Cluster, in guideInjector) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "osm-injector.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins.Injector, "--kubeconfig="+c.KubeconfigPath,
		"--webhook-url="+in.url(), "--webhook-host=127.0.0.1", "--webhook-port="+strconv.Itoa(in.webhook),
		"--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(in.health), "--metrics-bind-address=0",
		"--leader-elect=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p := framework.StartBackground(t, cmd)
	t.Cleanup(func() {
		p.Stop()
		_ = logFile.Close()
		if t.Failed() {
			t.Logf("osm-injector's log (%s):\n%s", logPath, framework.TailFile(logPath, 60))
		}
	})
	t.Logf("started %s", strings.Join(cmd.Args, " "))

	guideWait(ctx, t, "osm-injector's /readyz", func(ctx context.Context) error {
		if err := p.Exited(); err != nil {
			return fmt.Errorf("%w: osm-injector ended: %w; its log:\n%s", errGuideStop, err, framework.TailFile(logPath, 30))
		}
		_, err := guideGet(ctx, "http://127.0.0.1:"+strconv.Itoa(in.health)+"/readyz")
		return err
	})
	const probeNS = "guide-injection-probe"
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS,
		Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}}
	if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: probeNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "busybox"}}}}
	guideWait(ctx, t, "the webhook to inject a dry-run pod", func(ctx context.Context) error {
		got, err := c.Clientset.CoreV1().Pods(probeNS).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if !guideHasEnvoy(got) {
			return errors.New("the dry-run pod came back without the envoy container")
		}
		return nil
	})
	if err := c.Clientset.CoreV1().Namespaces().Delete(ctx, probeNS, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// errGuideStop ends a guideWait at once.
var errGuideStop = errors.New("stop")

// guideWait polls f until it returns nil, or ctx ends.
func guideWait(ctx context.Context, t *testing.T, what string, f func(context.Context) error) {
	t.Helper()
	var last error
	for {
		err := f(ctx)
		if err == nil {
			return
		}
		if errors.Is(err, errGuideStop) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func guideHasEnvoy(p *corev1.Pod) bool {
	return inject.Sidecar(&p.Spec) != nil
}

// guideRunningPod waits for a Running and Ready pod with the selector and returns it.
func guideRunningPod(ctx context.Context, t *testing.T, c *framework.Cluster, ns, selector string) *corev1.Pod {
	t.Helper()
	var found *corev1.Pod
	guideWait(ctx, t, "a ready pod "+selector+" in "+ns, func(ctx context.Context) error {
		pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
				continue
			}
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
					found = p
					return nil
				}
			}
		}
		return fmt.Errorf("%d pods, none Running and Ready", len(pods.Items))
	})
	return found
}

// guideInjectedPod is guideRunningPod for a pod that must carry the sidecar.
func guideInjectedPod(ctx context.Context, t *testing.T, c *framework.Cluster, ns, selector string) *corev1.Pod {
	t.Helper()
	p := guideRunningPod(ctx, t, c, ns, selector)
	if !guideHasEnvoy(p) || p.Labels[bootstrap.BootstrapHashKey] == "" {
		t.Fatalf("pod %s/%s is not injected: containers %v, labels %v", p.Namespace, p.Name, p.Spec.Containers, p.Labels)
	}
	return p
}

// guideForwardJaeger puts the real Jaeger behind the Jaeger pod's ports 9411 (Zipkin) and
// 16686 (query API) with kwok PortForwards.
func guideForwardJaeger(ctx context.Context, t *testing.T, c *framework.Cluster, j *framework.Jaeger, pod *corev1.Pod) {
	t.Helper()
	for podPort, target := range map[int32]string{9411: j.ZipkinURL, 16686: j.QueryURL} {
		_, port, err := net.SplitHostPort(strings.TrimPrefix(target, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(port, 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddPortForward(ctx, framework.PortForward{Namespace: pod.Namespace, Pod: pod.Name,
			PodPort: podPort, TargetPort: int32(n)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("pod %s/%s: ports 9411 and 16686 reach the real Jaeger (%s, %s)", pod.Namespace, pod.Name, j.ZipkinURL, j.QueryURL)
}

// guideUIPortMu lets one scenario at a time use the guide's own local port 16686.
var guideUIPortMu sync.Mutex

// guideUIPort is the local port of the guide's port-forward: 16686 as the guide says, unless
// it is busy on this machine (or another scenario of this test uses it), then a free one.
func guideUIPort(t *testing.T) int {
	t.Helper()
	if guideUIPortMu.TryLock() {
		if guidePortFree(guideJaegerUIPort) {
			t.Cleanup(guideUIPortMu.Unlock)
			return guideJaegerUIPort
		}
		guideUIPortMu.Unlock()
	}
	p, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("local port %d is busy (on this machine, or the other scenario forwards it): the port-forward uses %d:16686 instead of 16686:16686", guideJaegerUIPort, p)
	return p
}

// guidePortFree reports whether nothing listens on the port of 127.0.0.1 and ::1 (kubectl
// port-forward listens on both for "localhost").
func guidePortFree(port int) bool {
	for _, host := range []string{"127.0.0.1", "::1"} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			if host == "::1" && !guideHaveIPv6() {
				continue
			}
			return false
		}
		_ = l.Close()
	}
	return true
}

func guideHaveIPv6() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// guideGet GETs a loopback URL and returns the body; an answer other than 200 is an error.
func guideGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return guideDo(req, http.StatusOK)
}

func guideDo(req *http.Request, want int) ([]byte, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return body, fmt.Errorf("%s %s: %s: %s", req.Method, req.URL, resp.Status, body)
	}
	return body, nil
}

// guideJaegerServices lists the services of the Jaeger behind addr (host:port).
func guideJaegerServices(ctx context.Context, addr string) ([]string, error) {
	body, err := guideGet(ctx, "http://"+addr+"/api/services")
	if err != nil {
		return nil, err
	}
	var out struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /api/services answered %q: %w", body, err)
	}
	return out.Data, nil
}

// guideSpanReachesJaeger posts a Zipkin span as bookbuyer (calling bookstore-v1) to the Jaeger
// pod's collector port 9411 through a second port-forward, then finds service bookbuyer and
// the trace through ui, the guide's port-forward to 16686, and in the real Jaeger itself. No
// Envoy sends it: none runs here.
func guideSpanReachesJaeger(ctx context.Context, t *testing.T, sh *framework.Shell, ui string, j *framework.Jaeger) {
	t.Helper()
	port, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	collector := guidePortForwardJaeger(ctx, t, sh, port, 9411)
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	traceID := hex.EncodeToString(id)
	span, err := json.Marshal([]map[string]any{{
		"traceId": traceID, "id": traceID[16:], "name": "get /books-bought", "kind": "CLIENT",
		"timestamp": time.Now().UnixMicro(), "duration": 25000,
		"localEndpoint":  map[string]any{"serviceName": "bookbuyer"},
		"remoteEndpoint": map[string]any{"serviceName": "bookstore-v1"},
		"tags":           map[string]string{"http.method": "GET", "http.url": "http://bookstore.bookstore:14001/books-bought"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+collector+"/api/v2/spans", bytes.NewReader(span))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if _, err := guideDo(req, http.StatusAccepted); err != nil {
		t.Fatalf("posting a span as bookbuyer: %v", err)
	}
	t.Logf("POST http://%s/api/v2/spans: 202, trace %s of service bookbuyer", collector, traceID)
	guideWait(ctx, t, "service bookbuyer in Jaeger, through the guide's port-forward", func(ctx context.Context) error {
		services, err := guideJaegerServices(ctx, ui)
		if err != nil {
			return err
		}
		if !slices.Contains(services, "bookbuyer") {
			return fmt.Errorf("services so far: %v", services)
		}
		t.Logf("GET http://%s/api/services: %v", ui, services)
		return nil
	})
	body, err := guideGet(ctx, "http://"+ui+"/api/traces/"+traceID)
	if err != nil || !strings.Contains(string(body), traceID) || !strings.Contains(string(body), `"serviceName":"bookbuyer"`) {
		t.Errorf("GET /api/traces/%s through the port-forward: %v: %.500s", traceID, err, body)
	}
	if err := j.WaitForService(ctx, "bookbuyer"); err != nil {
		t.Errorf("the real Jaeger (%s): %v", j.QueryURL, err)
	}
}

// guideMatches fails the test unless s matches every regular expression.
func guideMatches(t *testing.T, s string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(s) {
			t.Errorf("the output does not match %s:\n%s", p, s)
		}
	}
}
