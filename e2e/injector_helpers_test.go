package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// envInjectorLogs set to anything prints the injector's logs even when the test passes.
const envInjectorLogs = "OSM_E2E_INJECTOR_LOGS"

// injectorLogs collects the in-process injector's logs; a failed test prints their end.
var injectorLogs = &framework.SyncBuffer{}

var setLoggerOnce sync.Once

// injector is osm-injector running in the test process (app.Run), restartable.
type injector struct {
	t      *testing.T
	opts   app.Options
	health string

	cancel context.CancelFunc
	done   chan error
}

// startInjector runs the injector against c with its webhook on a free loopback port, the
// webhook configuration pointing at it by URL, and a garbage-collection grace of grace.
func startInjector(t *testing.T, c *framework.Cluster, grace time.Duration) *injector {
	t.Helper()
	opts := injectorOptions(t, c)
	opts.ConfigMapGCGrace = grace
	return runInjector(t, opts)
}

// injectorOptions are an in-process injector's options on free loopback ports, with leader
// election on and its logs shown when the test fails (or OSM_E2E_INJECTOR_LOGS is set).
func injectorOptions(t *testing.T, c *framework.Cluster) app.Options {
	t.Helper()
	setLoggerOnce.Do(func() {
		ctrl.SetLogger(zap.New(zap.WriteTo(injectorLogs), zap.UseDevMode(true)))
	})
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(envInjectorLogs) != "" {
			t.Logf("last injector logs:\n%s", injectorLogs.Tail(30000))
		}
	})
	ports := make([]int, 2)
	for i := range ports {
		p, err := framework.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	opts := app.DefaultOptions()
	opts.RESTConfig = c.RESTConfig
	opts.WebhookHost = "127.0.0.1"
	opts.WebhookPort = ports[0]
	opts.WebhookURL = "https://127.0.0.1:" + strconv.Itoa(ports[0])
	opts.MetricsBindAddress = "0"
	opts.HealthProbeBindAddress = "127.0.0.1:" + strconv.Itoa(ports[1])
	opts.LeaderElect = true
	opts.Logger = ctrl.Log.WithName("osm-injector")
	return opts
}

// runInjector starts an injector with opts and stops it when the test ends.
func runInjector(t *testing.T, opts app.Options) *injector {
	t.Helper()
	in := &injector{t: t, opts: opts, health: opts.HealthProbeBindAddress}
	in.start()
	t.Cleanup(in.stop)
	return in
}

func (in *injector) start() {
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel, in.done = cancel, make(chan error, 1)
	go func() { in.done <- app.Run(ctx, in.opts) }()
}

// stop ends the injector and waits for Run to return.
func (in *injector) stop() {
	if in.cancel == nil {
		return
	}
	in.cancel()
	select {
	case err := <-in.done:
		if err != nil {
			in.t.Errorf("the injector ended with an error: %v", err)
		}
	case <-time.After(90 * time.Second):
		in.t.Errorf("the injector did not stop within 90s")
	}
	in.cancel = nil
}

func (in *injector) restart() {
	in.stop()
	in.start()
}

// readyz is the injector's /readyz: nil when ready, else the error with the body.
func (in *injector) readyz(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.health+"/readyz?verbose", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz %d: %s", resp.StatusCode, body)
	}
	return nil
}

// waitReady waits for /readyz, then until the API server really calls the webhook: a dry-run
// pod in the labelled namespace ns comes back with the envoy container.
func (in *injector) waitReady(ctx context.Context, c *framework.Cluster, ns string) {
	in.t.Helper()
	framework.Eventually(ctx, in.t, "the injector's /readyz", func() error {
		select {
		case err := <-in.done:
			in.done <- err
			return fmt.Errorf("%w: the injector ended: %w", framework.ErrStop, err)
		default:
		}
		return in.readyz(ctx)
	})
	framework.Eventually(ctx, in.t, "the API server to call the webhook", func() error {
		pod := testPod("probe-", nil)
		got, err := c.Clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if inject.Sidecar(&got.Spec) == nil {
			return errors.New("the dry-run pod has no envoy container yet")
		}
		return nil
	})
}

func testPod(generateName string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: generateName, Annotations: annotations, Labels: map[string]string{"app": "e2e"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "busybox", Command: []string{"sleep", "infinity"},
		}}},
	}
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// managedConfigMaps lists the injector's ConfigMaps in ns.
func managedConfigMaps(ctx context.Context, t *testing.T, c *framework.Cluster, ns string) []corev1.ConfigMap {
	t.Helper()
	list, err := c.Clientset.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{
		LabelSelector: bootstrap.ManagedByLabel + "=" + bootstrap.ManagedByValue,
	})
	if err != nil {
		t.Fatalf("listing ConfigMaps in %s: %v", ns, err)
	}
	return list.Items
}

// createNamespace creates ns with labels (ignoring AlreadyExists).
func createNamespace(ctx context.Context, t *testing.T, c *framework.Cluster, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

// kubectlApply applies a YAML document with kubectl from a file; extra flags come first.
func kubectlApply(t *testing.T, c *framework.Cluster, doc string, flags ...string) (stdout, stderr string, err error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return c.Kubectl(append(append([]string{"apply"}, flags...), "-f", path)...)
}

// installMeshConfigCRD applies the project's CRD and waits until it is served.
func installMeshConfigCRD(t *testing.T, c *framework.Cluster) {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "manifests", "crds", "config.openservicemesh.io_meshconfigs.yaml")
	if _, _, err := c.Kubectl("apply", "-f", path); err != nil {
		t.Fatalf("installing the MeshConfig CRD: %v", err)
	}
	if _, _, err := c.Kubectl("wait", "--for=condition=Established", "--timeout=60s",
		"crd/meshconfigs.config.openservicemesh.io"); err != nil {
		t.Fatalf("waiting for the MeshConfig CRD: %v", err)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
