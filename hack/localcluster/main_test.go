package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestLocalCluster runs localcluster in-process: the state file and kubeconfig appear, a
// Jaeger pod's port 16686 reaches the real Jaeger and an injected pod's port 15000 the Envoy
// admin stand-in, and when the context ends the state file is removed and every child
// process is gone. It needs the cached binaries (make testbin) and is skipped without them.
func TestLocalCluster(t *testing.T) {
	bins, err := framework.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{bins.Etcd, bins.KubeAPIServer, bins.Kwok, bins.Jaeger} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is missing: run make testbin", f)
		}
	}
	dir := t.TempDir()
	o := options{
		kubeconfig: filepath.Join(dir, "kubeconfig"), state: filepath.Join(dir, "state.json"),
		dir: filepath.Join(dir, "cluster"), jaeger: true, jaegerSelector: "app=jaeger", envoyStandIn: true,
		startTimeout: 3 * time.Minute, poll: 200 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, o) }()

	var st state
	waitFor(t, done, "the state file", func() error {
		data, err := os.ReadFile(o.state)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &st)
	})
	if st.PID != os.Getpid() || st.Jaeger == nil || len(st.Processes) < 6 {
		t.Fatalf("state = %+v", st)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)

	jaegerPod := pod("jaeger", map[string]string{"app": "jaeger"})
	injected := pod("bookbuyer", map[string]string{"app": "bookbuyer"})
	injected.Spec.Containers = append(injected.Spec.Containers, corev1.Container{Name: "envoy", Image: "envoy"})
	tracing := bootstrap.Defaults("osm-system")
	tracing.Enable = true
	g, err := bootstrap.Generate(bootstrap.Settings{Tracing: tracing, ServiceName: "bookbuyer"})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "envoy-bootstrap-bookbuyer", Namespace: "default"},
		Data: map[string]string{bootstrap.BootstrapKey: string(g.YAML)}}
	injected.Spec.Volumes = []corev1.Volume{{Name: inject.BootstrapVolumeName, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}}}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Pod{jaegerPod, injected} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, done, "Jaeger's query API through the Jaeger pod's port 16686", func() error {
		body, err := getThroughPod(ctx, cfg, cs, "jaeger", 16686, "/api/services")
		if err == nil && !strings.Contains(body, `"data"`) {
			err = fmt.Errorf("answer %q", body)
		}
		return err
	})
	waitFor(t, done, "the Envoy admin stand-in through the injected pod's port 15000", func() error {
		body, err := getThroughPod(ctx, cfg, cs, "bookbuyer", bootstrap.AdminPort, "/config_dump")
		if err == nil && !strings.Contains(body, `"name": "envoy-tracing-cluster"`) {
			err = fmt.Errorf("answer %.200q", body)
		}
		return err
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not return within a minute of the cancel")
	}
	if _, err := os.Stat(o.state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the state file is still there: %v", err)
	}
	for _, p := range st.Processes {
		if err := syscall.Kill(p.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d (%s) is still there: %v", p.PID, p.Name, err)
		}
	}
}

func pod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: name}}},
	}
}

// waitFor polls f until it returns nil; it fails the test when run ends or 3 minutes pass.
func waitFor(t *testing.T, done chan error, what string, f func() error) {
	t.Helper()
	var last, runErr error
	ended := false
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, 3*time.Minute, true, func(context.Context) (bool, error) {
		if last = f(); last == nil {
			return true, nil
		}
		select {
		case runErr = <-done:
			done <- runErr
			ended = true
			return false, runErr
		default:
		}
		return false, nil
	})
	switch {
	case err == nil:
	case ended:
		t.Fatalf("waiting for %s: run ended: %v", what, runErr)
	default:
		t.Fatalf("waiting for %s: %v", what, last)
	}
}

// getThroughPod GETs path from the pod's port through a port-forward of the API server.
func getThroughPod(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, podName string, port int, path string) (string, error) {
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return "", err
	}
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name(podName).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stop, ready := make(chan struct{}), make(chan struct{})
	defer close(stop)
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return "", err
	}
	errCh := make(chan error, 1)
	go func() { errCh <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errCh:
		return "", err
	}
	ports, err := fw.GetPorts()
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", ports[0].Local, path), nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, body)
	}
	return string(body), nil
}
