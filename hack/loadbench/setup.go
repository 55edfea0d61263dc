package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// benchNamespace is where the load tool's pods are (its default -namespace).
const benchNamespace = "bookbuyer"

var (
	meshConfigResource = v1alpha2.GroupVersion.WithResource("meshconfigs")
)

// binaries are the injector and the load tool: this binary itself (its load subcommand).
type binaries struct{ injector, self string }

// buildBinaries builds osm-injector into dir.
func buildBinaries(ctx context.Context, root, dir string) (binaries, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil { //nolint:gosec // G703: the work folder.
		return binaries{}, fmt.Errorf("when making %s: %w", dir, err)
	}
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	cmd := exec.CommandContext(ctx, goBin, "build", //nolint:gosec // G204: $GO or go, building this repository.
		"-o", dir+string(filepath.Separator), "./cmd/osm-injector")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return binaries{}, fmt.Errorf("go build: %w: %s", err, strings.TrimSpace(out.String()))
	}
	self, err := os.Executable()
	if err != nil {
		return binaries{}, fmt.Errorf("when finding this binary (it runs the load): %w", err)
	}
	return binaries{injector: filepath.Join(dir, "osm-injector"), self: self}, nil
}

// setupCluster installs the MeshConfig CRD, the MeshConfig with tracing on, and the labelled
// namespace of the load tool's pods.
func setupCluster(ctx context.Context, c *framework.Cluster, root string) error {
	crdPath := filepath.Join(root, "manifests", "crds", "config.openservicemesh.io_meshconfigs.yaml")
	if err := c.InstallCRD(ctx, crdPath); err != nil {
		return err
	}
	nss := map[string]map[string]string{
		bootstrap.DefaultNamespace: nil,
		benchNamespace:             {bootstrap.InjectionLabel: "enabled"},
	}
	for name, labels := range nss {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
		if _, err := c.Clientset.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("when creating namespace %s: %w", name, err)
		}
	}
	mc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha2.GroupVersion.String(),
		"kind":       "MeshConfig",
		"metadata":   map[string]any{"name": bootstrap.DefaultMeshConfigName, "namespace": bootstrap.DefaultNamespace},
		"spec": map[string]any{"observability": map[string]any{"tracing": map[string]any{
			"enable":   true,
			"address":  "jaeger." + bootstrap.DefaultNamespace + ".svc.cluster.local",
			"port":     int64(9411),
			"endpoint": "/api/v2/spans",
		}}},
	}}
	// The CRD is Established, but its REST mapping may lag an instant: retry briefly.
	return retry(ctx, "creating MeshConfig "+bootstrap.DefaultMeshConfigName, func() error {
		_, err := c.Dynamic().Resource(meshConfigResource).Namespace(bootstrap.DefaultNamespace).
			Create(ctx, mc.DeepCopy(), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	})
}

// retry calls f every 200ms until it succeeds or ctx ends.
func retry(ctx context.Context, what string, f func() error) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w (last error: %w)", what, err, last)
	}
	return nil
}

// injector is osm-injector: a child process, or app.Run in this process (-cpuprofile).
type injector struct {
	pid        int // whose /proc/PID/status has the memory figures
	logPath    string
	webhookURL string // https://127.0.0.1:PORT/mutate-v1-pod
	metricsURL string
	readyURL   string
	done       chan struct{} // closed when it has ended
	waitErr    error         // how it ended; read after done is closed
	halt       func()        // asks it to end, and makes sure it does
	stopOnce   sync.Once
}

// injectorPorts are free loopback ports and the injector's flags that use them.
type injectorPorts struct {
	webhookPort                   int
	base, metricsAddr, healthAddr string
}

func newInjectorPorts() (injectorPorts, error) {
	ports := make([]int, 3)
	for i := range ports {
		p, err := framework.FreePort()
		if err != nil {
			return injectorPorts{}, err
		}
		ports[i] = p
	}
	return injectorPorts{
		webhookPort: ports[0],
		base:        "https://127.0.0.1:" + strconv.Itoa(ports[0]),
		metricsAddr: "127.0.0.1:" + strconv.Itoa(ports[1]),
		healthAddr:  "127.0.0.1:" + strconv.Itoa(ports[2]),
	}, nil
}

func (p injectorPorts) injector(logPath string) *injector {
	return &injector{logPath: logPath, webhookURL: p.base + "/mutate-v1-pod",
		metricsURL: "http://" + p.metricsAddr + "/metrics", readyURL: "http://" + p.healthAddr + "/readyz",
		done: make(chan struct{})}
}

// gcGrace is the injector's --configmap-gc-grace. No pod of this cluster references the
// bootstrap ConfigMap (the load tool's pods are never created), so the default grace (5m)
// would let the garbage collector delete it mid-benchmark and the next admission recreate it.
// Real pods keep it referenced.
const gcGrace = time.Hour

// startInjector runs the osm-injector binary against c on free loopback ports, logging to
// dir/osm-injector.log, and waits for its /readyz.
func startInjector(ctx context.Context, c *framework.Cluster, bin, dir, gogc string) (*injector, error) {
	return startInjectorNamed(ctx, c, bin, dir, gogc, "osm-injector")
}

// startInjectorNamed is startInjector with the log dir/NAME.log and extra flags (a later flag
// wins over the same one before it).
func startInjectorNamed(ctx context.Context, c *framework.Cluster, bin, dir, gogc, name string, extra ...string) (*injector, error) {
	p, err := newInjectorPorts()
	if err != nil {
		return nil, err
	}
	args := []string{
		"--kubeconfig=" + c.KubeconfigPath,
		"--osm-namespace=" + bootstrap.DefaultNamespace,
		"--webhook-url=" + p.base,
		"--webhook-host=127.0.0.1",
		"--webhook-port=" + strconv.Itoa(p.webhookPort),
		"--metrics-bind-address=" + p.metricsAddr,
		"--health-probe-bind-address=" + p.healthAddr,
		"--configmap-gc-grace=" + gcGrace.String(),
	}
	args = append(args, extra...)
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) //nolint:gosec // G304: a file of the work folder.
	if err != nil {
		return nil, fmt.Errorf("when opening %s: %w", logPath, err)
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: the injector built here (or -injector), with flags made here.
	cmd.Dir = dir
	cmd.Env = envWithout("KUBECONFIG")
	if gogc != "" {
		cmd.Env = append(cmd.Env, "GOGC="+gogc) // the last value of a variable wins
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := framework.Spawn(cmd); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("when starting %s: %w", bin, err)
	}
	in := p.injector(logPath)
	in.pid = cmd.Process.Pid
	go func() {
		in.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(in.done)
	}()
	in.halt = func() {
		// SIGTERM to its process group, then SIGKILL if it has not ended.
		pgid := -cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(stopTimeout):
			log.Printf("osm-injector did not stop within %v: killing it", stopTimeout)
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-in.done
		}
	}
	log.Printf("osm-injector (pid %d): webhook %s, metrics %s, probes %s; log %s", //nolint:gosec // G706: loopback addresses and a file of the work folder.
		in.pid, p.base, p.metricsAddr, p.healthAddr, logPath)
	return in, in.waitReady(ctx)
}

// stopTimeout is how long the injector gets to end before it is killed.
const stopTimeout = 30 * time.Second

// waitReady waits for /readyz; on failure it stops the injector.
func (in *injector) waitReady(ctx context.Context) error {
	began := time.Now()
	err := retry(ctx, "osm-injector /readyz", func() error {
		if in.exited() {
			return errStop
		}
		return httpOK(ctx, in.readyURL)
	})
	if in.exited() {
		in.stop()
		return fmt.Errorf("osm-injector ended (%w); its log ends with:\n%s", in.waitErr, tail(in.logPath, 30))
	}
	if err != nil {
		in.stop()
		return fmt.Errorf("%w; its log ends with:\n%s", err, tail(in.logPath, 30))
	}
	log.Printf("osm-injector ready in %s", time.Since(began).Round(time.Millisecond))
	return nil
}

// errStop is what a retried function returns to say "no point retrying"; retry wraps it.
var errStop = errors.New("the injector ended")

func (in *injector) exited() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

// stop ends the injector and waits until it has ended.
func (in *injector) stop() {
	in.stopOnce.Do(func() {
		if in.exited() {
			return
		}
		in.halt()
		log.Printf("osm-injector stopped")
	})
}

// memory reads VmHWM (peak RSS) and VmRSS from /proc/PID/status, in bytes (0 if unknown).
func (in *injector) memory() (peak, current int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmHWM:":
			peak = kb * 1024
		case "VmRSS:":
			current = kb * 1024
		}
	}
	return peak, current
}

// writeWebhookCA writes the injector's CA (Secret osm-injector-tls, key ca.crt) to path.
func writeWebhookCA(ctx context.Context, c *framework.Cluster, path string) error {
	var ca []byte
	err := retry(ctx, "the CA in Secret "+certs.DefaultSecretName, func() error {
		s, err := c.Clientset.CoreV1().Secrets(bootstrap.DefaultNamespace).Get(ctx, certs.DefaultSecretName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if ca = s.Data[certs.KeyCABundle]; len(ca) == 0 {
			return fmt.Errorf("no %s in the Secret yet", certs.KeyCABundle)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, ca, 0o600); err != nil { //nolint:gosec // G703: a file of the work folder.
		return fmt.Errorf("when writing %s: %w", path, err)
	}
	return nil
}

// httpOK GETs url (loopback, plain HTTP) and wants 200.
func httpOK(ctx context.Context, url string) error {
	body, status, err := httpGet(ctx, url)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d: %s", url, status, strings.TrimSpace(string(body)))
	}
	return nil
}

var localHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}

func httpGet(ctx context.Context, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil) //nolint:gosec // G704: the injector's loopback endpoints.
	if err != nil {
		return nil, 0, err
	}
	resp, err := localHTTP.Do(req) //nolint:gosec // G704: the injector's loopback endpoints.
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

// envWithout is this process's environment without the named variable.
func envWithout(name string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			env = append(env, kv)
		}
	}
	return env
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the injector's log in the work folder.
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
