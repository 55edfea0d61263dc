package scale

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// Knobs, from the environment.
var (
	deployments   = envInt("OSM_SCALE_DEPLOYMENTS", 1000)
	namespaces    = envInt("OSM_SCALE_NAMESPACES", 20)
	maxConcurrent = envInt("OSM_SCALE_MAX_CONCURRENT", 50)
	replicas      = envInt("OSM_SCALE_REPLICAS", 1)
	// profileDir, when set, receives heap profiles of osm-injector (before the patch, after
	// the rollout).
	profileDir = os.Getenv("OSM_SCALE_PROFILE_DIR")
	// floors lists the baselines to measure after the re-bootstrap, on the same control plane
	// and at the same concurrency: "kubectl" (a loop of kubectl rollout restart + rollout
	// status), "api" (the same restart patch through client-go, completion polled).
	floors = os.Getenv("OSM_SCALE_FLOORS")
	// injectorFlags are more flags for osm-injector, space-separated; injectorEnv more
	// environment variables (NAME=VALUE, space-separated: GOMEMLIMIT=150MiB plays a container
	// limit).
	injectorFlags = strings.Fields(os.Getenv("OSM_SCALE_INJECTOR_FLAGS"))
	injectorEnv   = strings.Fields(os.Getenv("OSM_SCALE_INJECTOR_ENV"))
	// restOnly (OSM_SCALE_ROLLOUT=0) measures the fleet at rest and stops: no MeshConfig
	// patch, no rollout.
	restOnly = os.Getenv("OSM_SCALE_ROLLOUT") == "0"
)

// TestRebootstrapScale measures a MeshConfig change over many Deployments on kwok: how long
// until every template is stamped and every rollout complete, and the RSS and CPU time of
// the process running the re-bootstrap controller; then, with OSM_SCALE_FLOORS, how long
// the same restarts take without it. It runs only with OSM_SCALE=1:
//
//	OSM_SCALE=1 go test -count=1 -v -timeout 90m ./hack/scale/
//	OSM_SCALE=1 OSM_SCALE_REPLICAS=10 OSM_SCALE_FLOORS=kubectl,api go test -count=1 -v -timeout 90m ./hack/scale/
func TestRebootstrapScale(t *testing.T) {
	if os.Getenv("OSM_SCALE") != "1" {
		t.Skip("set OSM_SCALE=1 to run the scale test")
	}
	c := framework.Start(t, framework.Options{Kwok: true})
	cfg := *c.RESTConfig
	cfg.QPS, cfg.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 80*time.Minute)
	defer cancel()

	bins := buildBinaries(t)
	setupMesh(t, c)
	injector, health, pprof := startInjector(t, c, bins.injector)
	waitInjectorReady(ctx, t, cs, health, injector)

	began := time.Now()
	createFleet(ctx, t, cs)
	waitFleet(ctx, t, cs, 1, "created and available")
	t.Logf("%d Deployments of %d replicas in %d namespaces created and available in %s",
		deployments, replicas, namespaces, since(began))

	controller, controllerLog := injector, filepath.Join(c.Dir, "osm-injector.log")
	if !statusAppears(ctx, c, 20*time.Second) {
		t.Log("osm-injector does not run the re-bootstrap controller yet: running hack/scale/controller")
		controller = startProcess(t, c, "rebootstrap-controller", bins.controller,
			"--kubeconfig="+c.KubeconfigPath, "--max-concurrent-rollouts="+strconv.Itoa(maxConcurrent))
		controllerLog = filepath.Join(c.Dir, "rebootstrap-controller.log")
	}
	waitStatus(ctx, t, c, "all workloads counted and updated", func(s status) bool {
		return s.Workloads == deployments && s.Updated == deployments && s.Rolling+s.Pending == 0
	})
	rssBefore := procStatus(t, controller.Process.Pid, "VmRSS") + " (anonymous " +
		procStatus(t, controller.Process.Pid, "RssAnon") + ", file " + procStatus(t, controller.Process.Pid, "RssFile") + ")"
	hwmBefore := procStatus(t, controller.Process.Pid, "VmHWM")
	cpuBefore := cpuSeconds(t, controller.Process.Pid)
	saveHeapProfile(t, pprof, "before-patch")
	if restOnly {
		time.Sleep(time.Minute)
		t.Logf("RESULT at rest: deployments=%d replicas=%d pods=%d namespaces=%d: controller process VmRSS %s, "+
			"VmHWM %s when all were counted; a minute later VmRSS %s (anonymous %s); Go heap %s",
			deployments, replicas, deployments*replicas, namespaces, rssBefore, hwmBefore,
			procStatus(t, controller.Process.Pid, "VmRSS"), procStatus(t, controller.Process.Pid, "RssAnon"),
			memStats(t, pprof))
		return
	}

	began = time.Now()
	if _, _, err := c.Kubectl("patch", "meshconfig", "osm-mesh-config", "-n", "osm-system", "--type=merge",
		"-p", `{"spec":{"observability":{"tracing":{"sampling":50}}}}`); err != nil {
		t.Fatal(err)
	}
	peak := watchPeak(ctx, c)
	cpuProfile := startCPUProfile(t, pprof, "rollout", 30*time.Second)
	stamped := waitFleet(ctx, t, cs, 2, "stamped")
	t.Logf("every template stamped %s after the patch", stamped.Sub(began).Round(time.Second))
	waitStatus(ctx, t, c, "every rollout complete", func(s status) bool {
		return s.Updated == deployments && s.Rolling+s.Pending+s.Failed == 0
	})
	done := time.Since(began)
	cpu := cpuSeconds(t, controller.Process.Pid) - cpuBefore
	saveHeapProfile(t, pprof, "after-rollout")
	cpuProfile()
	t.Logf("RESULT deployments=%d replicas=%d pods=%d namespaces=%d max-concurrent=%d: all stamped after %s, "+
		"all rolled out after %s; peak rolling in status %d; controller process: VmRSS %s and VmHWM %s before the "+
		"patch, VmHWM %s after, CPU %.1fs during the rollout; %d stamps and %d error lines in its log",
		deployments, replicas, deployments*replicas, namespaces, maxConcurrent, stamped.Sub(began).Round(time.Second),
		done.Round(time.Second), peak(), rssBefore, hwmBefore, procStatus(t, controller.Process.Pid, "VmHWM"), cpu,
		countLines(controllerLog, "stamped a pod template"), countLines(controllerLog, `"level":"error"`))

	for _, f := range strings.Split(floors, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "kubectl", "api":
			began := time.Now()
			restartFleet(ctx, t, c, cs, f)
			t.Logf("RESULT floor %s: %d Deployments restarted, %d at a time, all rolled out after %s",
				f, deployments, maxConcurrent, since(began))
		default:
			t.Fatalf("OSM_SCALE_FLOORS: unknown baseline %q (kubectl or api)", f)
		}
	}
}

type binaries struct{ injector, controller string }

// buildBinaries builds osm-injector and the controller-only command.
func buildBinaries(t *testing.T) binaries {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := binaries{injector: filepath.Join(dir, "osm-injector"), controller: filepath.Join(dir, "controller")}
	for out, pkg := range map[string]string{b.injector: "./cmd/osm-injector", b.controller: "./hack/scale/controller"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	return b
}

// setupMesh installs the CRD, the control-plane namespace and the MeshConfig (tracing on).
func setupMesh(t *testing.T, c *framework.Cluster) {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	crd := filepath.Join(root, "manifests", "crds", "config.openservicemesh.io_meshconfigs.yaml")
	steps := [][]string{
		{"apply", "-f", crd},
		{"wait", "--for=condition=Established", "--timeout=60s", "crd/meshconfigs.config.openservicemesh.io"},
		{"create", "namespace", "osm-system"},
	}
	for _, s := range steps {
		if _, _, err := c.Kubectl(s...); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "meshconfig.yaml")
	doc := "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata:\n  name: osm-mesh-config\n" +
		"  namespace: osm-system\nspec:\n  observability:\n    tracing:\n      enable: true\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Kubectl("apply", "-f", path); err != nil {
		t.Fatal(err)
	}
}

// startInjector runs osm-injector as a process, its webhook on a free loopback port; it
// returns the process, the health address and the pprof address (empty without profileDir).
func startInjector(t *testing.T, c *framework.Cluster, bin string) (*exec.Cmd, string, string) {
	t.Helper()
	var ports [3]int
	for i := range ports {
		p, err := framework.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	health := "127.0.0.1:" + strconv.Itoa(ports[1])
	pprof := ""
	if profileDir != "" {
		pprof = "127.0.0.1:" + strconv.Itoa(ports[2])
	}
	args := append([]string{
		"--kubeconfig=" + c.KubeconfigPath,
		"--webhook-host=127.0.0.1", "--webhook-port=" + strconv.Itoa(ports[0]),
		"--webhook-url=https://127.0.0.1:" + strconv.Itoa(ports[0]),
		"--webhook-failure-policy=Fail", "--leader-elect=false",
		"--metrics-bind-address=0", "--health-probe-bind-address=" + health, "--pprof-bind-address=" + pprof,
		"--max-concurrent-rollouts=" + strconv.Itoa(maxConcurrent),
	}, injectorFlags...)
	cmd := startProcess(t, c, "osm-injector", bin, args...)
	return cmd, health, pprof
}

// startCPUProfile records osm-injector's CPU profile for d in the background, to
// profileDir/cpu-NAME.pb.gz; the function returned waits for it.
func startCPUProfile(t *testing.T, addr, name string, d time.Duration) func() {
	t.Helper()
	if addr == "" {
		return func() {}
	}
	done := make(chan error, 1)
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
		done <- saveProfile(url, filepath.Join(profileDir, "cpu-"+name+".pb.gz"))
	}()
	return func() {
		if err := <-done; err != nil {
			t.Errorf("CPU profile: %v", err)
		}
	}
}

func saveProfile(url, path string) error {
	resp, err := http.Get(url) //nolint:noctx // a profile from a loopback address of the test's, bounded by its seconds
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(profileDir, 0o750); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// saveHeapProfile writes osm-injector's heap profile (after a GC) to profileDir/heap-NAME.pb.gz.
func saveHeapProfile(t *testing.T, addr, name string) {
	t.Helper()
	if addr == "" {
		return
	}
	path := filepath.Join(profileDir, "heap-"+name+".pb.gz")
	if err := saveProfile("http://"+addr+"/debug/pprof/heap?gc=1", path); err != nil {
		t.Fatalf("reading the heap profile: %v", err)
	}
	t.Logf("heap profile %s", path)
}

// memStats reads the Go runtime's memory statistics from the pprof heap page (after a GC).
func memStats(t *testing.T, addr string) string {
	t.Helper()
	if addr == "" {
		return "unknown (set OSM_SCALE_PROFILE_DIR)"
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1&gc=1") //nolint:noctx // loopback, the test's own
	if err != nil {
		t.Fatalf("reading the heap statistics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for _, f := range []string{"HeapAlloc", "HeapInuse", "HeapIdle", "HeapReleased", "StackInuse", "Sys", "NextGC"} {
			if v, ok := strings.CutPrefix(sc.Text(), "# "+f+" = "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				out = append(out, fmt.Sprintf("%s %.1f MiB", f, float64(n)/(1<<20)))
			}
		}
	}
	return strings.Join(out, ", ")
}

// startProcess starts a command with its output in the cluster's folder; it is killed when
// the test ends.
func startProcess(t *testing.T, c *framework.Cluster, name, bin string, args ...string) *exec.Cmd {
	t.Helper()
	logPath := filepath.Join(c.Dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	if name == "osm-injector" {
		cmd.Env = append(os.Environ(), injectorEnv...)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
		_ = log.Close()
		if t.Failed() {
			t.Logf("last lines of %s:\n%s", logPath, tail(logPath, 4000))
		}
	})
	return cmd
}

func waitInjectorReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, health string, cmd *exec.Cmd) {
	t.Helper()
	createNamespace(ctx, t, cs, "scale-probe")
	poll(ctx, t, "the injector to inject a dry-run pod", time.Second, func() error {
		if cmd.ProcessState != nil {
			return errors.New("osm-injector exited")
		}
		resp, err := http.Get("http://" + health + "/readyz")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
		}
		got, err := cs.CoreV1().Pods("scale-probe").Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if got.Labels[bootstrap.BootstrapHashKey] == "" {
			return errors.New("not injected yet")
		}
		return nil
	})
}

func createNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// createFleet creates the labelled namespaces and the one-replica Deployments, 16 at a time.
func createFleet(ctx context.Context, t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	for i := range namespaces {
		createNamespace(ctx, t, cs, fmt.Sprintf("scale-%02d", i))
	}
	err := eachDeployment(16, func(ns, name string) error {
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(ns, name), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("creating Deployments: %v", err)
	}
}

// eachDeployment calls f for every Deployment of the fleet (namespace, name), from workers
// goroutines, each taking the next one when its call returns; it returns the first error.
func eachDeployment(workers int, f func(ns, name string) error) error {
	work := make(chan int)
	errs := make(chan error, deployments)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range work {
				if err := f(fmt.Sprintf("scale-%02d", i%namespaces), fmt.Sprintf("app-%04d", i)); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range deployments {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

func deployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "busybox", Command: []string{"sleep", "infinity"},
				}}},
			},
		},
	}
}

// waitFleet waits until every Deployment is at generation gen and rolled out, logging
// progress; it returns when the last one reached generation gen.
func waitFleet(ctx context.Context, t *testing.T, cs kubernetes.Interface, gen int64, what string) time.Time {
	t.Helper()
	var reached time.Time
	last := time.Now()
	poll(ctx, t, fmt.Sprintf("every Deployment %s", what), 2*time.Second, func() error {
		list, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		atGen, complete := 0, 0
		for i := range list.Items {
			d := &list.Items[i]
			if !strings.HasPrefix(d.Namespace, "scale-") {
				continue
			}
			if d.Generation >= gen {
				atGen++
			}
			if d.Generation >= gen && rolledOut(d) {
				complete++
			}
		}
		if atGen == deployments && reached.IsZero() {
			reached = time.Now()
		}
		if time.Since(last) > 30*time.Second {
			t.Logf("%s: %d at generation %d, %d rolled out", what, atGen, gen, complete)
			last = time.Now()
		}
		if atGen < deployments || (gen == 1 && complete < deployments) {
			return fmt.Errorf("%d at generation %d, %d rolled out", atGen, gen, complete)
		}
		return nil
	})
	return reached
}

// rolledOut: the Deployment controller saw the latest generation and every replica is
// updated and available, none left over (kubectl rollout status's rule).
func rolledOut(d *appsv1.Deployment) bool {
	st, want := d.Status, int32(replicas)
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want &&
		st.AvailableReplicas == want
}

type status struct {
	Workloads, Updated, Rolling, Pending, Failed int
}

func readStatus(ctx context.Context, c *framework.Cluster) (status, error) {
	out, _, err := c.KubectlContext(ctx, "get", "meshconfig", "osm-mesh-config", "-n", "osm-system", "-o",
		"jsonpath={.status.rebootstrap.workloads} {.status.rebootstrap.updated} {.status.rebootstrap.rolling} "+
			"{.status.rebootstrap.pending} {.status.rebootstrap.failed}")
	if err != nil {
		return status{}, err
	}
	f := strings.Fields(out)
	if len(f) != 5 {
		return status{}, fmt.Errorf("no re-bootstrap status yet: %q", out)
	}
	var n [5]int
	for i := range f {
		if n[i], err = strconv.Atoi(f[i]); err != nil {
			return status{}, err
		}
	}
	return status{n[0], n[1], n[2], n[3], n[4]}, nil
}

func statusAppears(ctx context.Context, c *framework.Cluster, d time.Duration) bool {
	err := wait.PollUntilContextTimeout(ctx, time.Second, d, true, func(ctx context.Context) (bool, error) {
		_, err := readStatus(ctx, c)
		return err == nil, nil
	})
	return err == nil
}

func waitStatus(ctx context.Context, t *testing.T, c *framework.Cluster, what string, ok func(status) bool) {
	t.Helper()
	poll(ctx, t, what, 2*time.Second, func() error {
		s, err := readStatus(ctx, c)
		if err != nil {
			return err
		}
		if !ok(s) {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
}

// watchPeak samples the status every second and returns a function giving the highest
// rolling count seen.
func watchPeak(ctx context.Context, c *framework.Cluster) func() int {
	var mu sync.Mutex
	peak := 0
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		if s, err := readStatus(ctx, c); err == nil {
			mu.Lock()
			peak = max(peak, s.Rolling)
			mu.Unlock()
		}
	}, time.Second)
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func poll(ctx context.Context, t *testing.T, what string, every time.Duration, f func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextCancel(ctx, every, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last: %v)", what, err, last)
	}
}

// procStatus reads a field of /proc/PID/status ("123456 kB").
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// cpuSeconds is the user and system CPU time of a process.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime is the 12th, stime 13th.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// countLines counts the lines of a file that contain s.
func countLines(path, s string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Second) }

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
