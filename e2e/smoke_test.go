package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// smokeTimeout bounds what each smoke test waits for after its cluster is up.
const smokeTimeout = 2 * time.Minute

// TestSmokeDeploymentOnKwok checks the whole control plane: a Deployment gets a ReplicaSet
// and Pods, the scheduler binds them to the kwok node, kwok makes them Running and Ready, and
// the real kubectl talks to the cluster.
func TestSmokeDeploymentOnKwok(t *testing.T) {
	c := framework.Start(t, framework.Options{Kwok: true})
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()

	appLabels := map[string]string{"app": "smoke"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: metav1.NamespaceDefault},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: appLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: appLabels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "busybox", Command: []string{"sleep", "infinity"},
				}}},
			},
		},
	}
	if _, err := c.Clientset.AppsV1().Deployments(deploy.Namespace).Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}
	waitDeploymentAvailable(ctx, t, c.Clientset, deploy.Namespace, deploy.Name, 2)

	pods, err := c.Clientset.CoreV1().Pods(deploy.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(appLabels).String(),
	})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("got %d pods, want 2", len(pods.Items))
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName != framework.KwokNodeName || pod.Status.Phase != corev1.PodRunning || !podReady(&pod) {
			t.Errorf("pod %s: node %q, phase %s, ready %t; want %s, Running, ready",
				pod.Name, pod.Spec.NodeName, pod.Status.Phase, podReady(&pod), framework.KwokNodeName)
		}
	}

	out, _, err := c.Kubectl("get", "pods", "-o", "wide", "-l", "app=smoke")
	if err != nil {
		t.Fatalf("kubectl get pods: %v", err)
	}
	t.Logf("kubectl get pods -o wide:\n%s", out)
	if got := strings.Count(out, framework.KwokNodeName); got != 2 || strings.Count(out, "Running") != 2 {
		t.Errorf("kubectl output does not show 2 Running pods on %s:\n%s", framework.KwokNodeName, out)
	}
	if out, _, err := c.Kubectl("version"); err != nil || !strings.Contains(out, framework.KubernetesVersion) {
		t.Errorf("kubectl version = %q, %v; want server %s", out, err, framework.KubernetesVersion)
	}
}

// TestSmokePortForwardOnKwok checks that port-forwarding to a kwok Pod, through the API server
// and kwok's kubelet API, reaches a local HTTP server: one forward given at start, one added
// while the cluster runs.
func TestSmokePortForwardOnKwok(t *testing.T) {
	first := localServer(t, "first")
	second := localServer(t, "second")
	c := framework.Start(t, framework.Options{Kwok: true, KwokPortForwards: []framework.PortForward{
		{Namespace: metav1.NamespaceDefault, Pod: "web", PodPort: 8080, TargetPort: first},
	}})
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: metav1.NamespaceDefault},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "busybox",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9090}},
		}}},
	}
	if _, err := c.Clientset.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod: %v", err)
	}
	waitPodReady(ctx, t, c.Clientset, pod.Namespace, pod.Name)

	if got := getThroughForward(ctx, t, c, pod.Namespace, pod.Name, 8080); got != "first" {
		t.Errorf("through the forward to port 8080 got %q, want %q", got, "first")
	}
	if err := c.AddPortForward(ctx, framework.PortForward{
		Namespace: pod.Namespace, Pod: pod.Name, PodPort: 9090, TargetPort: second,
	}); err != nil {
		t.Fatalf("adding a port forward: %v", err)
	}
	if got := getThroughForward(ctx, t, c, pod.Namespace, pod.Name, 9090); got != "second" {
		t.Errorf("through the forward to port 9090 got %q, want %q", got, "second")
	}
}

// TestSmokeJaeger checks that the real Jaeger takes a Zipkin v2 span and lists its service.
func TestSmokeJaeger(t *testing.T) {
	j := framework.StartJaeger(t)
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()

	now := time.Now()
	span := fmt.Sprintf(`[{"traceId":"%016x%016x","id":"%016x","name":"get /smoke","kind":"SERVER",`+
		`"timestamp":%d,"duration":1500,"localEndpoint":{"serviceName":"smoke-svc","ipv4":"127.0.0.1"}}]`,
		now.UnixNano(), 1, now.UnixNano(), now.UnixMicro())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.ZipkinURL+"/api/v2/spans", strings.NewReader(span))
	if err != nil {
		t.Fatalf("making request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting span: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("posting span: %s: %s; want 202", resp.Status, body)
	}
	if err := j.WaitForService(ctx, "smoke-svc"); err != nil {
		t.Fatal(err)
	}
}

// localServer serves body on a free 127.0.0.1 port until the test ends and returns the port.
func localServer(t *testing.T, body string) int32 {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	_, portText, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("local server address: %v", err)
	}
	port, err := strconv.ParseInt(portText, 10, 32)
	if err != nil {
		t.Fatalf("local server port: %v", err)
	}
	return int32(port)
}

// getThroughForward port-forwards to the pod with client-go and GETs / through it, retrying
// while kwok picks up a new PortForward.
func getThroughForward(ctx context.Context, t *testing.T, c *framework.Cluster, ns, pod string, port int) string {
	t.Helper()
	var last error
	for ctx.Err() == nil {
		body, err := getOnce(ctx, c, ns, pod, port)
		if err == nil {
			return body
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET through a port-forward to %s/%s:%d: %v (last error: %v)", ns, pod, port, ctx.Err(), last)
	return ""
}

func getOnce(ctx context.Context, c *framework.Cluster, ns, pod string, port int) (string, error) {
	addr, stop, err := c.ForwardPort(ctx, ns, pod, port)
	if err != nil {
		return "", err
	}
	defer stop()
	reqCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return string(body), nil
}

func waitDeploymentAvailable(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = fmt.Sprintf("available %d/%d, updated %d", d.Status.AvailableReplicas, replicas, d.Status.UpdatedReplicas)
			for _, cond := range d.Status.Conditions {
				if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue &&
					d.Status.AvailableReplicas == replicas && d.Status.ObservedGeneration >= d.Generation {
					return
				}
			}
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("deployment %s/%s not Available: %v (%s)", ns, name, ctx.Err(), last)
}

func waitPodReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		pod, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && pod.Status.Phase == corev1.PodRunning && podReady(pod) {
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("phase %s on node %q", pod.Status.Phase, pod.Spec.NodeName)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("pod %s/%s not Ready: %v (%s)", ns, name, ctx.Err(), last)
}

func podReady(pod *corev1.Pod) bool {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
