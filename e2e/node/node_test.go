// Package node runs end-to-end tests on a real node: kubelet, containerd, runc, the CNI
// bridge and kube-proxy on a bridge the test creates, with real containers (see
// e2e/framework, Options.Node). It needs root and the packages hack/node-deps.sh installs.
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/e2e/testimages"
)

// nodeEnv is what the subtests of TestRealNode share: one cluster with a real node.
type nodeEnv struct {
	c *framework.Cluster
}

// TestRealNode starts one cluster with a real node and runs the scenarios on it, each in a
// subtest; add yours to the list. The teardown is checked after the framework's cleanup.
func TestRealNode(t *testing.T) {
	framework.RequireNode(t)
	var c *framework.Cluster
	// Registered before Start, so it runs after the framework's teardown.
	t.Cleanup(func() { checkTeardown(t, c) })
	images := nodeImages(t)
	began := time.Now()
	c = framework.Start(t, framework.Options{Node: true, NodeImages: images})
	t.Logf("node: cluster with a real node started in %s", time.Since(began).Round(time.Millisecond))
	env := &nodeEnv{c: c}

	t.Run("plain pod", env.testPlainPod)
	t.Run("service to pod", env.testServiceToPod)
	t.Run("pod to apiserver", env.testPodToAPIServer)
	t.Run("dns", env.testDNS)
	t.Run("mesh", env.testMesh)
}

// checkTeardown fails the test if the node left anything on the machine.
func checkTeardown(t *testing.T, c *framework.Cluster) {
	if c == nil {
		return
	}
	if left := c.NodeLeftovers(); len(left) > 0 {
		t.Errorf("teardown: the node left %d thing(s) on the machine:\n  %s", len(left), strings.Join(left, "\n  "))
		return
	}
	t.Logf("teardown: nothing of the node is left on the machine")
}

// testPlainPod runs the test application and checks it gets Ready (its readiness probe
// reaches it from the node), has an address of each family, and that exec and logs work.
func (e *nodeEnv) testPlainPod(t *testing.T) {
	ctx := testContext(t)
	ns := e.namespace(ctx, t, "plain")
	began := time.Now()
	pod := e.runServer(ctx, t, ns, "server")
	t.Logf("pod Ready in %s: IPs %v", time.Since(began).Round(time.Millisecond), podIPs(pod))
	if len(pod.Status.PodIPs) != 2 {
		t.Errorf("pod IPs %v: want one IPv4 and one IPv6", podIPs(pod))
	}
	out, _, err := e.c.Exec(ctx, ns, "server", "", testimages.TestAppPath, "get", "http://127.0.0.1:8080/")
	if err != nil {
		t.Fatalf("exec in the pod: %v", err)
	}
	if h := answerHostname(out); h != "server" {
		t.Errorf("exec: GET from inside the pod = %q, want the server's answer", out)
	}
	logs, _, err := e.c.Kubectl("logs", "--namespace="+ns, "server")
	if err != nil {
		t.Fatalf("kubectl logs: %v", err)
	}
	if !strings.Contains(logs, `"event":"start"`) {
		t.Errorf("kubectl logs: no start event in %q", logs)
	}
}

// testServiceToPod checks a Pod reaches another through a Service's ClusterIPs, IPv4 and
// IPv6 (the node sends the rewritten packet back onto the bridge), that the node itself
// reaches the Pod through them, as kube-apiserver reaches a webhook, and that a Pod has no
// route off the machine.
func (e *nodeEnv) testServiceToPod(t *testing.T) {
	ctx := testContext(t)
	ns := e.namespace(ctx, t, "svc")
	e.runServer(ctx, t, ns, "server")
	e.runClient(ctx, t, ns, "client")
	e.service(ctx, t, ns, "server", corev1.IPFamilyPolicyRequireDualStack)
	svc, err := e.c.WaitServiceRouted(ctx, ns, "server")
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.ClusterIPs) != 2 {
		t.Errorf("ClusterIPs %v: want an IPv4 and an IPv6 one", svc.Spec.ClusterIPs)
	}
	for _, ip := range svc.Spec.ClusterIPs {
		url := "http://" + net.JoinHostPort(ip, "80") + "/"
		out, _, err := e.c.Exec(ctx, ns, "client", "", testimages.TestAppPath, "get", url)
		if err != nil {
			t.Errorf("pod → %s → pod: %v", url, err)
		} else if h := answerHostname(out); h != "server" {
			t.Errorf("pod → %s = %q, want the server's answer", url, out)
		}
		body, err := httpGet(ctx, url)
		if err != nil {
			t.Errorf("node → %s → pod: %v", url, err)
		} else if h := answerHostname(body); h != "server" {
			t.Errorf("node → %s = %q, want the server's answer", url, body)
		}
	}
	routes, _, err := e.c.Exec(ctx, ns, "client", "", testimages.TestAppPath, "cat", "/proc/net/route", "/proc/net/ipv6_route")
	if err != nil {
		t.Fatalf("reading the pod's routes: %v", err)
	}
	if def := defaultRoutes(routes); len(def) > 0 {
		t.Errorf("the pod has a default route, a way off the machine: %v", def)
	}
}

// defaultRoutes are the lines of /proc/net/route (destination 00000000, mask 00000000) and
// /proc/net/ipv6_route (destination ::/0 on an interface other than lo) that route
// everything somewhere.
func defaultRoutes(tables string) []string {
	var out []string
	for line := range strings.SplitSeq(tables, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000":
			out = append(out, line)
		case len(f) == 10 && f[0] == strings.Repeat("0", 32) && f[1] == "00" && f[9] != "lo":
			out = append(out, line)
		}
	}
	return out
}

// testPodToAPIServer checks a Pod reaches kube-apiserver through the kubernetes Service,
// trusting the CA of its service-account volume.
func (e *nodeEnv) testPodToAPIServer(t *testing.T) {
	ctx := testContext(t)
	ns := e.namespace(ctx, t, "api")
	e.runClient(ctx, t, ns, "client")
	url := "https://" + framework.KubernetesServiceIP + "/version"
	out, _, err := e.c.Exec(ctx, ns, "client", "", testimages.TestAppPath, "get",
		"--ca", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", url)
	if err != nil {
		t.Fatalf("pod → %s: %v", url, err)
	}
	if !strings.Contains(out, `"gitVersion": "`+framework.KubernetesVersion+`"`) {
		t.Errorf("pod → %s = %q, want the version %s", url, out, framework.KubernetesVersion)
	}
}

// testDNS checks a Pod resolves Services by their full names and by the search list, and
// nothing else.
func (e *nodeEnv) testDNS(t *testing.T) {
	ctx := testContext(t)
	ns := e.namespace(ctx, t, "dns")
	jaegerNS := e.namespace(ctx, t, "osm-system")
	jaeger := e.service(ctx, t, jaegerNS, "jaeger", corev1.IPFamilyPolicySingleStack)
	dual := e.service(ctx, t, ns, "dual", corev1.IPFamilyPolicyRequireDualStack)
	e.runClient(ctx, t, ns, "client")
	resolvConf, _, err := e.c.Exec(ctx, ns, "client", "", testimages.TestAppPath, "cat", "/etc/resolv.conf")
	if err != nil {
		t.Fatalf("reading the pod's resolv.conf: %v", err)
	}
	for _, want := range []string{"nameserver " + framework.NodeIP, "search " + ns + ".svc.cluster.local svc.cluster.local cluster.local"} {
		if !strings.Contains(resolvConf, want) {
			t.Errorf("the pod's resolv.conf has no %q:\n%s", want, resolvConf)
		}
	}
	for name, want := range map[string][]string{
		"jaeger." + jaegerNS + ".svc.cluster.local": jaeger.Spec.ClusterIPs,
		"jaeger." + jaegerNS:                        jaeger.Spec.ClusterIPs,
		"kubernetes.default.svc":                    {framework.KubernetesServiceIP},
		"dual":                                      dual.Spec.ClusterIPs, // A and AAAA
		"jaeger":                                    nil,                  // not in the client's namespace
		"example.com":                               nil,                  // never forwarded
	} {
		out, _, err := e.c.Exec(ctx, ns, "client", "", testimages.TestAppPath, "resolve", name)
		got := strings.Fields(out)
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		switch {
		case len(want) == 0 && err == nil:
			t.Errorf("resolve %s = %v, want no such host", name, got)
		case len(want) > 0 && err != nil:
			t.Errorf("resolve %s: %v", name, err)
		case len(want) > 0 && !slices.Equal(got, want):
			t.Errorf("resolve %s = %v, want %v", name, got, want)
		}
	}
	url := "https://kubernetes.default.svc/version"
	if _, _, err := e.c.Exec(ctx, ns, "client", "", testimages.TestAppPath, "get",
		"--ca", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", url); err != nil {
		t.Errorf("pod → %s by name: %v", url, err)
	}
}

// testContext bounds a subtest.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// namespace creates a namespace of its own for a subtest (named after prefix, with a
// suffix), deleted when the subtest ends.
func (e *nodeEnv) namespace(ctx context.Context, t *testing.T, prefix string) string {
	t.Helper()
	ns, err := e.c.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = e.c.Clientset.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// runServer runs the test application's server on 8080, labelled app=NAME, with a readiness
// probe, and waits until it is Ready.
func (e *nodeEnv) runServer(ctx context.Context, t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	return e.runPod(ctx, t, ns, name, corev1.Container{
		Image: testimages.TestAppImage,
		Args:  []string{"serve", "--port", "8080"},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 1,
		},
	})
}

// runClient runs a Pod of the test application that only waits, for kubectl exec to run its
// client commands in.
func (e *nodeEnv) runClient(ctx context.Context, t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	return e.runPod(ctx, t, ns, name, corev1.Container{Image: testimages.TestAppImage, Args: []string{"sleep", "infinity"}})
}

// runPod runs a Pod of one container, "main", never pulling its image, and waits until it
// is Ready.
func (e *nodeEnv) runPod(ctx context.Context, t *testing.T, ns, name string, main corev1.Container) *corev1.Pod {
	t.Helper()
	grace := int64(1)
	main.Name = "main"
	main.ImagePullPolicy = corev1.PullNever
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Containers:                    []corev1.Container{main},
		},
	}
	if _, err := e.c.Clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s/%s: %v", ns, name, err)
	}
	ready, err := e.c.WaitPodReady(ctx, ns, name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return ready
}

// service creates a Service NAME selecting app=NAME, port 80 to 8080, of the IP families the
// policy asks for (IPv4 first).
func (e *nodeEnv) service(ctx context.Context, t *testing.T, ns, name string, policy corev1.IPFamilyPolicy) *corev1.Service {
	t.Helper()
	families := []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	if policy == corev1.IPFamilyPolicySingleStack {
		families = families[:1]
	}
	svc, err := e.c.Clientset.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector:       map[string]string{"app": name},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			IPFamilyPolicy: &policy,
			IPFamilies:     families,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating service %s/%s: %v", ns, name, err)
	}
	return svc
}

// answerHostname is the hostname in the test application's JSON answer to GET /, after
// whatever comes before it (testapp get prints the status line first), or "".
func answerHostname(out string) string {
	var answer struct {
		Hostname string `json:"hostname"`
	}
	if i := strings.IndexByte(out, '{'); i < 0 || json.Unmarshal([]byte(out[i:]), &answer) != nil {
		return ""
	}
	return answer.Hostname
}

func podIPs(p *corev1.Pod) []string {
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	return ips
}

// httpGet is the body of GET url from the test process, retried for a few seconds while
// kube-proxy programs a new Service.
func httpGet(ctx context.Context, url string) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	var last error
	for range 20 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, readErr := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			switch {
			case readErr != nil:
				err = fmt.Errorf("reading the answer: %w", readErr)
			case resp.StatusCode != http.StatusOK:
				err = fmt.Errorf("%s: %s", resp.Status, body)
			default:
				return string(body), nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return "", last
}
