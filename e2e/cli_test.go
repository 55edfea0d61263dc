package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/envoystandin"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// cliTimeout bounds the whole CLI scenario once the cluster is up.
const cliTimeout = 10 * time.Minute

// cliBookbuyer is the demo workload the CLI inspects.
const cliBookbuyer = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bookbuyer
  namespace: bookbuyer
spec:
  replicas: 1
  selector:
    matchLabels: {app: bookbuyer}
  template:
    metadata:
      labels: {app: bookbuyer}
    spec:
      containers:
      - name: bookbuyer
        image: openservicemesh/bookbuyer:v1.2.0
`

// TestCLI runs the osm binary as a user would, against a real control plane with kwok: the
// guide's install, namespaces, proxy bootstrap and config_dump (through a port-forward to an
// Envoy admin stand-in), tracing check on a good set-up and on three broken ones, version and
// uninstall.
func TestCLI(t *testing.T) {
	bin := cliBuild(t)
	c := framework.Start(t, framework.Options{Kwok: true})
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	osm := cliRunner{t: t, bin: bin, kubeconfig: c.KubeconfigPath, home: t.TempDir()}
	const cp = "osm-system"

	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("install with Jaeger and tracing, as the guide does", func(t *testing.T) {
		osm := osm
		osm.t = t
		res := osm.ok("install", "--set=osm.deployJaeger=true,osm.tracing.enable=true", "--timeout=4m")
		t.Logf("osm install:\n%s", res.stdout)
		cliContains(t, "osm install output", res.stdout, "OSM installed successfully in namespace [osm-system] with mesh name [osm]")
		if _, err := c.Clientset.CoreV1().Secrets(cp).Get(ctx, "sh.helm.release.v1.osm.v1", metav1.GetOptions{}); err != nil {
			t.Errorf("the Helm release's Secret: %v", err)
		}
		out, _, err := c.Kubectl("get", "meshconfig", "osm-mesh-config", "-n", cp, "-o", "jsonpath={.spec.observability.tracing.enable}")
		if err != nil || out != "true" {
			t.Errorf("MeshConfig tracing.enable = %q, %v; want true", out, err)
		}
		out, _, err = c.Kubectl("get", "services", "-n", cp, "-l", "app=jaeger")
		if err != nil || !strings.Contains(out, "jaeger") || !strings.Contains(out, "9411/TCP") {
			t.Errorf("kubectl get services -l app=jaeger = %q, %v", out, err)
		}
		out, _, err = c.Kubectl("get", "deployments", "-n", cp, "-l", "app=jaeger")
		if err != nil || !strings.Contains(out, "1/1") {
			t.Errorf("kubectl get deployments -l app=jaeger = %q, %v", out, err)
		}
	})
	step("a second install is refused and says how to uninstall", func(t *testing.T) {
		osm := osm
		osm.t = t
		osm.fails([]string{"install", "--set=osm.deployJaeger=true,osm.tracing.enable=true"},
			"a mesh is already installed", `Helm release "osm"`, "in namespace osm-system",
			"osm uninstall mesh --mesh-name osm --osm-namespace osm-system")
	})

	var pod *corev1.Pod
	step("an injected workload from osm inject", func(t *testing.T) {
		pod = cliDeployBookbuyer(ctx, t, c, osm)
	})
	step("osm namespace add, list and remove", func(t *testing.T) {
		osm := osm
		osm.t = t
		if _, _, err := c.Kubectl("create", "namespace", "bookstore"); err != nil {
			t.Fatal(err)
		}
		res := osm.ok("namespace", "add", "bookbuyer", "bookstore")
		cliContains(t, "namespace add", res.stdout, "Namespace [bookbuyer] successfully added", "Namespace [bookstore] successfully added")
		res = osm.ok("namespace", "list")
		cliContains(t, "namespace list", res.stdout, "bookbuyer", "bookstore", "enabled")
		osm.ok("namespace", "remove", "bookstore")
		res = osm.ok("namespace", "list")
		if strings.Contains(res.stdout, "bookstore") || !strings.Contains(res.stdout, "bookbuyer") {
			t.Errorf("after remove, list says:\n%s", res.stdout)
		}
		out, _, err := c.Kubectl("get", "namespace", "bookbuyer", "-o", "jsonpath={.metadata.labels.openservicemesh\\.io/sidecar-injection}")
		if err != nil || out != "enabled" {
			t.Errorf("bookbuyer's label = %q, %v", out, err)
		}
		osm.fails([]string{"namespace", "add", "kube-system"}, "never injected")
		osm.fails([]string{"namespace", "add", cp}, "control plane's namespace")
	})

	jaegerPod := cliRunningPod(ctx, t, c, cp, "app=jaeger")
	var bootstrapYAML string
	step("osm proxy bootstrap prints the pod's ConfigMap", func(t *testing.T) {
		osm := osm
		osm.t = t
		res := osm.ok("proxy", "bootstrap", "-n", "bookbuyer", pod.Name)
		cms, err := c.Clientset.CoreV1().ConfigMaps("bookbuyer").List(ctx, metav1.ListOptions{
			LabelSelector: bootstrap.BootstrapHashKey + "=" + pod.Labels[bootstrap.BootstrapHashKey]})
		if err != nil || len(cms.Items) != 1 {
			t.Fatalf("the pod's bootstrap ConfigMap: %v, %d found", err, len(cms.Items))
		}
		bootstrapYAML = cms.Items[0].Data[bootstrap.BootstrapKey]
		if res.stdout != bootstrapYAML {
			t.Errorf("osm proxy bootstrap printed\n%s\nwant the ConfigMap's\n%s", res.stdout, bootstrapYAML)
		}
		cliContains(t, "bootstrap", res.stdout, bootstrap.TracingClusterName, "jaeger.osm-system.svc.cluster.local")
		sum := osm.ok("proxy", "bootstrap", "--summary", "-n", "bookbuyer", pod.Name)
		cliContains(t, "osm proxy bootstrap --summary", sum.stdout, "tracing:    "+bootstrap.TracingClusterName+" -> jaeger.osm-system.svc.cluster.local:9411",
			`outbound spans named "`+bootstrap.DefaultOutboundSpanName+`"`, "access log off", "Prometheus stats on :15090/stats/prometheus", "resources:  requests cpu=")
		osm.fails([]string{"proxy", "bootstrap", "-n", cp, jaegerPod.Name}, "is not injected")
		osm.fails([]string{"proxy", "bootstrap", "-n", "bookbuyer", "nope"}, "pod nope not found in namespace bookbuyer")
	})
	step("osm proxy get config_dump through a port-forward, as the guide does", func(t *testing.T) {
		cliProxyGet(ctx, t, c, osm, pod, jaegerPod, bootstrapYAML)
	})

	stopCerts := cliWebhookCertificate(ctx, t, c, cp)
	jaeger := framework.StartJaeger(t)
	cliForwardJaeger(ctx, t, c, jaeger, jaegerPod)

	step("osm tracing check passes on a good set-up", func(t *testing.T) {
		osm := osm
		osm.t = t
		res := osm.run("", "tracing", "check")
		t.Logf("osm tracing check:\n%s", res.stdout)
		if res.code != 0 || strings.Contains(res.stdout, "[FAIL]") {
			t.Fatalf("want every check to pass:\n%s", res)
		}
		for i := 1; i <= 8; i++ {
			cliContains(t, "tracing check", res.stdout, fmt.Sprintf("[PASS] %d.", i))
		}
		cliContains(t, "tracing check", res.stdout, "osm-tracing-check", "8 checks: 8 passed, 0 failed")
		res = osm.ok("tracing", "check", "-n", "bookbuyer", pod.Name)
		cliContains(t, "tracing check of the pod", res.stdout, "[PASS] 3. pod bootstrap: pod bookbuyer/"+pod.Name+": current bootstrap")
	})
	step("a Job pod with a native envoy sidecar and a bare generateName pod are current", func(t *testing.T) {
		cliNativeAndGenerateName(ctx, t, c, osm)
	})
	step("osm tracing check speaks OTLP/gRPC when the protocol is opentelemetry", func(t *testing.T) {
		cliCheckOpenTelemetry(ctx, t, c, osm, jaeger)
	})
	step("osm tracing check fails with tracing off", func(t *testing.T) {
		cliPatchTracing(t, c, `{"enable":false}`)
		res := cliCheckFails(t, osm, "[FAIL] 1. tracing enabled", "has tracing disabled")
		cliContains(t, "tracing check", res.stdout, "[FAIL] 3. pod bootstrap", "although tracing is disabled")
		cliPatchTracing(t, c, `{"enable":true}`)
	})
	step("osm tracing check fails with a wrong address", func(t *testing.T) {
		cliPatchTracing(t, c, `{"address":"jaeger.nowhere.svc.cluster.local"}`)
		res := cliCheckFails(t, osm, "[FAIL] 2. collector address", "Service nowhere/jaeger does not exist")
		cliContains(t, "tracing check", res.stdout, "[FAIL] 3. pod bootstrap", "stale bootstrap", "kubectl rollout restart deployment/bookbuyer -n bookbuyer")
		cliPatchTracing(t, c, `{"address":"jaeger.osm-system.svc.cluster.local"}`)
	})
	step("osm tracing check fails with Jaeger missing", func(t *testing.T) {
		if _, _, err := c.Kubectl("delete", "deployment,service", "-n", cp, "-l", "app=jaeger", "--wait=true"); err != nil {
			t.Fatal(err)
		}
		cliCheckFails(t, osm, "[FAIL] 4. Jaeger objects", "no Service or Deployment app=jaeger in namespace osm-system")
	})
	step("osm version", func(t *testing.T) {
		osm := osm
		osm.t = t
		res := osm.ok("version")
		cliContains(t, "osm version", res.stdout, "CLI Version: "+cliVersion, "Injector Version: 0.1.0", "Deployment osm-system/osm-injector")
		res = osm.ok("version", "--client", "--kubeconfig", "/nonexistent")
		cliContains(t, "osm version --client", res.stdout, "CLI Version: "+cliVersion)
	})
	stopCerts()
	step("osm uninstall mesh", func(t *testing.T) {
		cliUninstall(ctx, t, c, osm, cp)
	})
	step("reinstall with the guide's BYO collector settings", func(t *testing.T) {
		cliInstallBYO(ctx, t, c, osm, cp)
	})
}

// cliJobAndBarePod are a Job (its pod gets Envoy as a native sidecar: an init container with
// restartPolicy Always) and a bare pod created with generateName and no app label.
const cliJobAndBarePod = `apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-report
  namespace: bookbuyer
spec:
  template:
    metadata:
      labels: {role: nightly-report}
    spec:
      restartPolicy: Never
      containers:
      - name: report
        image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  generateName: adhoc-
  namespace: bookbuyer
  labels: {role: adhoc}
spec:
  containers:
  - name: shell
    image: busybox
`

// cliInjectAndCreate runs osm inject on manifest with the MeshConfig as it is in the
// cluster, as a user would from files, and creates its output with kubectl.
func cliInjectAndCreate(t *testing.T, c *framework.Cluster, osm cliRunner, manifest string) {
	t.Helper()
	dir := t.TempDir()
	mesh, _, err := c.Kubectl("get", "meshconfig", "osm-mesh-config", "-n", "osm-system", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"mesh.yaml": mesh, "workloads.yaml": manifest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res := osm.ok("inject", "-f", filepath.Join(dir, "workloads.yaml"), "--mesh-config", filepath.Join(dir, "mesh.yaml"))
	injected := filepath.Join(dir, "injected.yaml")
	if err := os.WriteFile(injected, []byte(res.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := c.Kubectl("create", "-f", injected); err != nil {
		t.Fatalf("kubectl create of osm inject's output: %v\n%s", err, out)
	}
}

// cliNativeAndGenerateName injects cliJobAndBarePod with osm inject, creates it, and checks
// that osm proxy bootstrap and osm tracing check take the Job's pod (whose envoy is an init
// container) as injected, and that neither pod is reported stale: the bare pod's service name
// comes from its generateName, as at admission.
func cliNativeAndGenerateName(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner) {
	osm.t = t
	cliInjectAndCreate(t, c, osm, cliJobAndBarePod)
	// kwok completes a Job's pod as soon as it runs: any phase will do, the bootstrap is read
	// from its ConfigMap.
	var job *corev1.Pod
	cliWait(ctx, t, "the Job's pod", func(ctx context.Context) (bool, error) {
		pods, err := c.Clientset.CoreV1().Pods("bookbuyer").List(ctx, metav1.ListOptions{LabelSelector: "role=nightly-report"})
		if err != nil || len(pods.Items) == 0 {
			return false, err
		}
		job = &pods.Items[0]
		return true, nil
	})
	if n := len(job.Spec.InitContainers); n == 0 || job.Spec.InitContainers[n-1].Name != "envoy" ||
		job.Spec.InitContainers[n-1].RestartPolicy == nil || *job.Spec.InitContainers[n-1].RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Fatalf("the Job's pod has no native envoy sidecar: init containers %+v", job.Spec.InitContainers)
	}
	bare := cliRunningPod(ctx, t, c, "bookbuyer", "role=adhoc")

	res := osm.ok("proxy", "bootstrap", "-n", "bookbuyer", job.Name)
	cliContains(t, "osm proxy bootstrap of the Job's pod", res.stdout, bootstrap.TracingClusterName, "cluster: nightly-report")
	for _, p := range []*corev1.Pod{job, bare} {
		res = osm.ok("tracing", "check", "-n", "bookbuyer", p.Name)
		cliContains(t, "tracing check of pod "+p.Name, res.stdout, "[PASS] 3. pod bootstrap: pod bookbuyer/"+p.Name+": current bootstrap")
	}
	cliContains(t, "tracing check of the bare pod", res.stdout, "service name adhoc")
}

// cliInstallBYO installs again, with the guide's option b) (a collector of the user's), checks
// the MeshConfig with the guide's command and what tracing check says of it, then uninstalls
// with --delete-crds.
func cliInstallBYO(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner, cp string) {
	osm.t = t
	osm.ok("install", "--set", "osm.tracing.enable=true,osm.tracing.address=jaeger.tracing.svc.cluster.local,"+
		"osm.tracing.port=9412,osm.tracing.endpoint=/zipkin/spans")
	out, _, err := c.Kubectl("get", "meshconfig", "osm-mesh-config", "-n", cp, "-o", `jsonpath={.spec.observability.tracing}{"\n"}`)
	if err != nil {
		t.Fatal(err)
	}
	cliContains(t, "the MeshConfig's tracing", out, `"address":"jaeger.tracing.svc.cluster.local"`, `"port":9412`,
		`"endpoint":"/zipkin/spans"`, `"enable":true`)
	res := cliCheckFails(t, osm, "[FAIL] 2. collector address", "Service tracing/jaeger does not exist",
		"[SKIP] 4. Jaeger objects", "[SKIP] 5. Jaeger pod", "[SKIP] 8. test span")
	cliContains(t, "tracing check", res.stdout, "[FAIL] 6. injector webhook", "Secret osm-system/osm-injector-tls (the injector's certificate) does not")
	res = osm.ok("uninstall", "mesh", "-y", "--delete-crds")
	cliContains(t, "uninstall --delete-crds", res.stdout, "Deleted CustomResourceDefinition meshconfigs.config.openservicemesh.io")
	cliWait(ctx, t, "the MeshConfig CRD to go", func(ctx context.Context) (bool, error) {
		_, _, err := c.Kubectl("get", "crd", "meshconfigs.config.openservicemesh.io")
		return err != nil && strings.Contains(err.Error(), "NotFound"), nil
	})
}

// cliDeployBookbuyer injects the bookbuyer Deployment with osm inject (the mesh's settings
// from its MeshConfig), applies it with kubectl into a namespace not yet in the mesh, and
// returns its running pod.
func cliDeployBookbuyer(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner) *corev1.Pod {
	osm.t = t
	dir := t.TempDir()
	if _, _, err := c.Kubectl("create", "namespace", "bookbuyer"); err != nil {
		t.Fatal(err)
	}
	mesh, _, err := c.Kubectl("get", "meshconfig", "osm-mesh-config", "-n", "osm-system", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"mesh.yaml": mesh, "bookbuyer.yaml": cliBookbuyer}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res := osm.ok("inject", "-f", filepath.Join(dir, "bookbuyer.yaml"), "--mesh-config", filepath.Join(dir, "mesh.yaml"))
	injected := filepath.Join(dir, "injected.yaml")
	if err := os.WriteFile(injected, []byte(res.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := c.Kubectl("apply", "-f", injected); err != nil {
		t.Fatalf("kubectl apply of osm inject's output: %v\n%s", err, out)
	}
	return cliRunningPod(ctx, t, c, "bookbuyer", "app=bookbuyer")
}

// cliProxyGet serves the pod's bootstrap from an Envoy admin stand-in that a kwok
// PortForward puts behind the pod's port 15000, and reads it back with osm proxy get.
func cliProxyGet(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner, pod, jaegerPod *corev1.Pod, bootstrapYAML string) {
	osm.t = t
	h, err := envoystandin.NewHandler([]byte(bootstrapYAML), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := envoystandin.Start(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := c.AddPortForward(ctx, framework.PortForward{Namespace: pod.Namespace, Pod: pod.Name,
		PodPort: bootstrap.AdminPort, TargetPort: int32(srv.Port)}); err != nil {
		t.Fatal(err)
	}
	// The guide's command; kwok needs a moment to see a new PortForward.
	args := []string{"proxy", "get", "config_dump", "-n", pod.Namespace, pod.Name}
	var res cliResult
	cliWait(ctx, t, "osm proxy get config_dump", func(context.Context) (bool, error) {
		res = osm.run("", args...)
		return res.code == 0, fmt.Errorf("%s", res)
	})
	cliContains(t, "config_dump", res.stdout,
		`"name": "envoy-tracing-cluster"`,
		`"address": "jaeger.osm-system.svc.cluster.local"`,
		`"port_value": 9411`)
	file := filepath.Join(t.TempDir(), "config_dump.json")
	osm.ok("proxy", "get", "config_dump", "-n", pod.Namespace, pod.Name, "-f", file)
	if data, err := os.ReadFile(file); err != nil || string(data) != res.stdout {
		t.Errorf("-f wrote %d bytes (%v), want the %d of stdout", len(data), err, len(res.stdout))
	}
	if res := osm.ok("proxy", "get", "ready", "-n", pod.Namespace, pod.Name); res.stdout != "LIVE\n" {
		t.Errorf("osm proxy get ready = %q", res.stdout)
	}
	res = osm.ok("proxy", "get", "clusters", "-n", pod.Namespace, pod.Name)
	cliContains(t, "clusters", res.stdout, "envoy-tracing-cluster::jaeger.osm-system.svc.cluster.local:9411")
	osm.fails([]string{"proxy", "get", "config_dump", "-n", jaegerPod.Namespace, jaegerPod.Name}, `has no "envoy" container`)
}

// cliWebhookCertificate does what the injector does at start, which no injector process does
// in this test: it runs the injector's self-signed certificate provider (the Secret
// osm-injector-tls) and writes its CA bundle into the chart's webhook configuration. The
// returned function stops the provider.
func cliWebhookCertificate(ctx context.Context, t *testing.T, c *framework.Cluster, cp string) (stop func()) {
	t.Helper()
	p, err := certs.NewSelfSigned(c.Clientset, certs.Options{Namespace: cp})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Start(pctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("the certificate provider ended: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	cliWait(ctx, t, "the webhook certificate", func(context.Context) (bool, error) { return len(p.CABundle()) > 0, nil })
	patch, err := json.Marshal([]map[string]any{{
		"op": "add", "path": "/webhooks/0/clientConfig/caBundle", "value": base64.StdEncoding.EncodeToString(p.CABundle()),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().Patch(ctx,
		webhook.ConfigurationName, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("writing the caBundle: %v", err)
	}
	return stop
}

// cliForwardJaeger puts the real Jaeger (on loopback) behind the Jaeger pod's ports 9411
// (Zipkin), 4317 (OTLP/gRPC) and 16686, and waits until the query API answers through a
// port-forward.
func cliForwardJaeger(ctx context.Context, t *testing.T, c *framework.Cluster, j *framework.Jaeger, pod *corev1.Pod) {
	t.Helper()
	for podPort, target := range map[int32]int32{9411: cliPort(t, j.ZipkinAddr), 4317: cliPort(t, j.OTLPGRPCAddr), 16686: cliPort(t, j.QueryURL)} {
		if err := c.AddPortForward(ctx, framework.PortForward{Namespace: pod.Namespace, Pod: pod.Name,
			PodPort: podPort, TargetPort: target}); err != nil {
			t.Fatal(err)
		}
	}
	cliWait(ctx, t, "Jaeger's query API through a port-forward", func(ctx context.Context) (bool, error) {
		addr, stop, err := c.ForwardPort(ctx, pod.Namespace, pod.Name, 16686)
		if err != nil {
			return false, err
		}
		defer stop()
		q := &framework.Jaeger{QueryURL: "http://" + addr}
		_, err = q.Services(ctx)
		return err == nil, err
	})
}

// cliCheckOpenTelemetry switches the MeshConfig to opentelemetry. The chart wrote port 9411,
// so a patch of the protocol alone sends OTLP to the Zipkin port: the check fails and names
// the patch to port 4317. With it, osm tracing check's test span goes over OTLP/gRPC to 4317
// and is found in the real Jaeger. The bookbuyer pod's bootstrap is stale meanwhile (no
// re-bootstrap controller runs here), and a pod injected with the OpenTelemetry settings
// passes. The MeshConfig is put back as installed.
func cliCheckOpenTelemetry(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner, j *framework.Jaeger) {
	osm.t = t
	if out, _, err := c.Kubectl("get", "meshconfig", "osm-mesh-config", "-n", "osm-system", "-o", "jsonpath={.spec.observability.tracing.port}"); err != nil || out != "9411" {
		t.Fatalf("the installed MeshConfig's port = %q, %v; want 9411 (the chart writes it)", out, err)
	}
	defer cliPatchTracing(t, c, `{"protocol":"zipkin","port":9411}`)
	cliPatchTracing(t, c, `{"protocol":"opentelemetry"}`)
	cliCheckFails(t, osm, "[FAIL] 2. collector address",
		"the protocol is opentelemetry (OTLP over gRPC), but port 9411 (zipkin) speaks Zipkin",
		`'{"spec":{"observability":{"tracing":{"port":4317}}}}'`)
	cliPatchTracing(t, c, `{"port":4317}`)
	res := osm.run("", "tracing", "check")
	t.Logf("osm tracing check:\n%s", res.stdout)
	cliContains(t, "tracing check", res.stdout, "[PASS] 2. collector address: spans go to grpc://jaeger.osm-system.svc.cluster.local:4317 (OTLP)",
		"[FAIL] 3. pod bootstrap", "stale bootstrap", "is Zipkin (protocol zipkin), not OpenTelemetry (protocol opentelemetry, OTLP/gRPC)",
		"[PASS] 8. test span", "(port 4317, OTLP/gRPC) was read back")
	cliOpenTelemetryPod(ctx, t, c, osm)
	m := regexp.MustCompile(`\[PASS\] 8\. test span: .*\(trace ([0-9a-f]{32})\)`).FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("no trace id in the test span's line:\n%s", res.stdout)
	}
	// The span is in the real Jaeger, under the check's service.
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, err := cliGet(qctx, j.QueryURL+"/api/traces/"+m[1])
	if err != nil {
		t.Fatalf("GET the trace from the real Jaeger: %v", err)
	}
	var trace struct {
		Data []struct {
			Spans []struct {
				OperationName string `json:"operationName"`
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &trace); err != nil || len(trace.Data) != 1 || len(trace.Data[0].Spans) != 1 ||
		trace.Data[0].Spans[0].OperationName != "osm tracing check" || len(trace.Data[0].Processes) != 1 {
		t.Fatalf("the real Jaeger's trace %s: %v\n%s", m[1], err, body)
	}
	for _, p := range trace.Data[0].Processes {
		if p.ServiceName != "osm-tracing-check" {
			t.Errorf("the trace's service is %q, want osm-tracing-check", p.ServiceName)
		}
	}
}

// cliOTLPPod is a bare pod whose service name, otlp, comes from its generateName.
const cliOTLPPod = `apiVersion: v1
kind: Pod
metadata:
  generateName: otlp-
  namespace: bookbuyer
  labels: {role: otlp}
spec:
  containers:
  - name: shell
    image: busybox
`

// cliOpenTelemetryPod injects a bare pod with osm inject and the MeshConfig as it is now
// (opentelemetry to 4317), creates it, and checks that osm tracing check finds its OTLP
// bootstrap current.
func cliOpenTelemetryPod(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner) {
	cliInjectAndCreate(t, c, osm, cliOTLPPod)
	p := cliRunningPod(ctx, t, c, "bookbuyer", "role=otlp")
	defer func() { _, _, _ = c.Kubectl("delete", "pod", p.Name, "-n", "bookbuyer", "--wait=false") }()
	res := osm.ok("tracing", "check", "-n", "bookbuyer", p.Name)
	cliContains(t, "tracing check of the OpenTelemetry pod", res.stdout,
		"[PASS] 3. pod bootstrap: pod bookbuyer/"+p.Name+": current bootstrap",
		"envoy-tracing-cluster -> jaeger.osm-system.svc.cluster.local:4317, OTLP/gRPC, service name otlp")
}

// cliGet returns the body of a 200 answer to GET url.
func cliGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, body)
	}
	return body, err
}

// cliPatchTracing patches the MeshConfig's tracing settings as the guide does.
func cliPatchTracing(t *testing.T, c *framework.Cluster, tracing string) {
	t.Helper()
	if _, _, err := c.Kubectl("patch", "meshconfig", "osm-mesh-config", "-n", "osm-system", "--type=merge",
		"-p", `{"spec":{"observability":{"tracing":`+tracing+`}}}`); err != nil {
		t.Fatal(err)
	}
}

// cliCheckFails runs osm tracing check and wants it to exit non-zero with the given lines.
func cliCheckFails(t *testing.T, osm cliRunner, want ...string) cliResult {
	t.Helper()
	osm.t = t
	res := osm.run("", "tracing", "check")
	t.Logf("osm tracing check:\n%s", res.stdout)
	if res.code == 0 {
		t.Errorf("want tracing check to fail:\n%s", res)
	}
	cliContains(t, "tracing check", res.stdout, want...)
	cliContains(t, "tracing check", res.stderr, "tracing check:", "checks failed")
	return res
}

// cliUninstall checks that no answer keeps the mesh and -y removes it, the CRD staying.
func cliUninstall(ctx context.Context, t *testing.T, c *framework.Cluster, osm cliRunner, cp string) {
	osm.t = t
	res := osm.run("", "uninstall", "mesh")
	if res.code != 0 || !strings.Contains(res.stdout, "[y/N]") || !strings.Contains(res.stdout, "Nothing was uninstalled") {
		t.Errorf("without an answer:\n%s", res)
	}
	if _, err := c.Clientset.CoreV1().Secrets(cp).Get(ctx, "sh.helm.release.v1.osm.v1", metav1.GetOptions{}); err != nil {
		t.Fatalf("the release is gone although nobody said yes: %v", err)
	}
	res = osm.ok("uninstall", "mesh", "-y")
	cliContains(t, "uninstall", res.stdout, "OSM [mesh name: osm] uninstalled from namespace [osm-system]")
	secrets, err := c.Clientset.CoreV1().Secrets(cp).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil || len(secrets.Items) != 0 {
		t.Errorf("Helm release Secrets left: %v, %v", secrets, err)
	}
	if _, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, webhook.ConfigurationName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the webhook configuration: %v, want NotFound", err)
	}
	if _, err := c.Clientset.CoreV1().Secrets(cp).Get(ctx, certs.DefaultSecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the webhook certificate Secret: %v, want NotFound", err)
	}
	if out, _, err := c.Kubectl("get", "crd", "meshconfigs.config.openservicemesh.io"); err != nil {
		t.Errorf("the CRD should stay: %v %s", err, out)
	}
	osm.fails([]string{"uninstall", "mesh", "-y"}, `no mesh named "osm" is installed in namespace osm-system`)
}
