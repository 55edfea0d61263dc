package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

const (
	injectorTimeout = 4 * time.Minute
	// gcGrace is the injector's --configmap-gc-grace in these tests.
	gcGrace = 3 * time.Second
)

const meshConfigYAML = `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata:
  name: osm-mesh-config
  namespace: osm-system
spec:
  observability:
    tracing:
      enable: true
      address: jaeger.osm-system.svc.cluster.local
      port: 9411
      endpoint: /api/v2/spans
`

const bookbuyerYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bookbuyer
  namespace: bookbuyer
  labels:
    app: bookbuyer
    version: v1
spec:
  replicas: 3
  selector:
    matchLabels:
      app: bookbuyer
      version: v1
  template:
    metadata:
      labels:
        app: bookbuyer
        version: v1
    spec:
      containers:
      - name: bookbuyer
        image: openservicemesh/bookbuyer:v1.2.0
        command: ["/bookbuyer"]
`

// TestInjector runs osm-injector in the test process against a real kube-apiserver with
// kube-controller-manager, and checks what users see: injection of a Deployment's pods with one
// shared bootstrap ConfigMap, namespaces and pods that are left alone, a malformed annotation
// refused by kubectl with the precise message, server-side dry runs that write nothing,
// admissions across an injector restart, and garbage collection of the ConfigMap.
func TestInjector(t *testing.T) {
	c := framework.Start(t, framework.Options{Controllers: true})
	ctx, cancel := context.WithTimeout(t.Context(), injectorTimeout)
	defer cancel()

	createNamespace(ctx, t, c, bootstrap.DefaultNamespace, nil)
	createNamespace(ctx, t, c, "bookbuyer", map[string]string{bootstrap.InjectionLabel: "enabled"})
	createNamespace(ctx, t, c, "bookstore", map[string]string{bootstrap.InjectionLabel: "enabled"})
	createNamespace(ctx, t, c, "plain", nil)
	installMeshConfigCRD(t, c)
	if _, _, err := kubectlApply(t, c, meshConfigYAML); err != nil {
		t.Fatalf("creating the MeshConfig: %v", err)
	}

	in := startInjector(t, c, gcGrace)
	in.waitReady(ctx, c, "bookstore")

	t.Run("TestInjectorWebhookConfiguration", func(t *testing.T) { checkWebhookConfiguration(ctx, t, c) })
	t.Run("TestInjectorMeshConfigValid", func(t *testing.T) { checkMeshConfigValid(ctx, t, c) })
	t.Run("TestInjectorDeployment", func(t *testing.T) { checkDeployment(ctx, t, c) })
	t.Run("TestInjectorUnlabelledNamespace", func(t *testing.T) { checkUnlabelled(ctx, t, c) })
	t.Run("TestInjectorOptOut", func(t *testing.T) { checkOptOut(ctx, t, c) })
	t.Run("TestInjectorMalformedAnnotation", func(t *testing.T) { checkMalformed(t, c) })
	t.Run("TestInjectorSidecarSafety", func(t *testing.T) { checkSidecarSafety(ctx, t, c) })
	t.Run("TestInjectorServerDryRun", func(t *testing.T) { checkDryRun(ctx, t, c) })
	t.Run("TestInjectorRestart", func(t *testing.T) {
		in.restart()
		in.waitReady(ctx, c, "bookstore")
		pod, err := c.Clientset.CoreV1().Pods("bookstore").Create(ctx, testPod("after-restart-", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating a pod after the restart: %v", err)
		}
		if inject.Sidecar(&pod.Spec) == nil {
			t.Errorf("the pod created after the restart was not injected: %v", pod.Spec.Containers)
		}
	})
	t.Run("TestInjectorConfigMapGC", func(t *testing.T) { checkGC(ctx, t, c) })
	// After the GC step: its ConfigMap would be among the ones that step expects kept.
	t.Run("TestInjectorHealAfterOutage", func(t *testing.T) { checkHealAfterOutage(ctx, t, c, in) })
}

func checkWebhookConfiguration(ctx context.Context, t *testing.T, c *framework.Cluster) {
	cfg, err := c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, webhook.ConfigurationName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the webhook configuration: %v", err)
	}
	if len(cfg.Webhooks) != 1 {
		t.Fatalf("want one webhook, got %d", len(cfg.Webhooks))
	}
	hook := cfg.Webhooks[0]
	if hook.Name != webhook.WebhookName || hook.ClientConfig.URL == nil || !strings.HasSuffix(*hook.ClientConfig.URL, webhook.Path) ||
		len(hook.ClientConfig.CABundle) == 0 || *hook.FailurePolicy != admissionregistrationv1.Ignore ||
		*hook.SideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun {
		t.Errorf("unexpected webhook: %+v", hook)
	}
}

func checkMeshConfigValid(ctx context.Context, t *testing.T, c *framework.Cluster) {
	s := runtime.NewScheme()
	if err := v1alpha2.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	cl, err := c.ControllerClient(s)
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(ctx, t, "condition Valid=True on the MeshConfig", func() error {
		mc := &v1alpha2.MeshConfig{}
		if err := cl.Get(ctx, client.ObjectKey{Namespace: bootstrap.DefaultNamespace, Name: bootstrap.DefaultMeshConfigName}, mc); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(mc.Status.Conditions, webhook.ConditionValid) {
			return errorf("conditions: %+v", mc.Status.Conditions)
		}
		return nil
	})
}

func checkDeployment(ctx context.Context, t *testing.T, c *framework.Cluster) {
	if _, _, err := kubectlApply(t, c, bookbuyerYAML); err != nil {
		t.Fatalf("kubectl apply of the bookbuyer Deployment: %v", err)
	}
	var pods []corev1.Pod
	framework.Eventually(ctx, t, "three bookbuyer pods", func() error {
		list, err := c.Clientset.CoreV1().Pods("bookbuyer").List(ctx, metav1.ListOptions{LabelSelector: "app=bookbuyer"})
		if err != nil {
			return err
		}
		if len(list.Items) != 3 {
			return errorf("%d pods", len(list.Items))
		}
		pods = list.Items
		return nil
	})
	hashes := map[string]bool{}
	for _, pod := range pods {
		hash := pod.Labels[bootstrap.BootstrapHashKey]
		hashes[hash] = true
		if hash == "" || findContainer(pod.Spec.InitContainers, "osm-init") == nil || inject.Sidecar(&pod.Spec) == nil {
			t.Errorf("pod %s is not injected: label %q, init %v, containers %v", pod.Name, hash,
				names(pod.Spec.InitContainers), names(pod.Spec.Containers))
			continue
		}
		if cm := bootstrapVolume(&pod); cm == "" {
			t.Errorf("pod %s mounts no bootstrap ConfigMap: %+v", pod.Name, pod.Spec.Volumes)
		}
	}
	if len(hashes) != 1 {
		t.Errorf("the three pods should share one bootstrap, got hashes %v", hashes)
	}
	cms := managedConfigMaps(ctx, t, c, "bookbuyer")
	if len(cms) != 1 {
		t.Fatalf("want exactly one bootstrap ConfigMap for the three pods, got %d", len(cms))
	}
	cm := cms[0]
	if cm.Name != bootstrapVolume(&pods[0]) || !hashes[cm.Labels[bootstrap.BootstrapHashKey]] {
		t.Errorf("ConfigMap %s (hash %s) is not the one the pods mount (%s)", cm.Name, cm.Labels[bootstrap.BootstrapHashKey], bootstrapVolume(&pods[0]))
	}
	if !strings.HasPrefix(cm.Name, "envoy-bootstrap-bookbuyer-") || cm.Immutable == nil || !*cm.Immutable {
		t.Errorf("ConfigMap %s: want envoy-bootstrap-bookbuyer-<hash>, immutable", cm.Name)
	}
	doc := cm.Data[bootstrap.BootstrapKey]
	for _, want := range []string{
		"name: envoy-tracing-cluster", "type: LOGICAL_DNS", "connect_timeout: 1s",
		"address: jaeger.osm-system.svc.cluster.local", "port_value: 9411",
		"envoy.tracers.zipkin", "collector_cluster: envoy-tracing-cluster", "collector_endpoint: /api/v2/spans",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("bootstrap.yaml lacks %q:\n%s", want, doc)
		}
	}
}

func checkUnlabelled(ctx context.Context, t *testing.T, c *framework.Cluster) {
	pod, err := c.Clientset.CoreV1().Pods("plain").Create(ctx, testPod("plain-", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) != 0 || pod.Labels[bootstrap.BootstrapHashKey] != "" {
		t.Errorf("a pod of an unlabelled namespace was changed: %v %v %v", names(pod.Spec.InitContainers), names(pod.Spec.Containers), pod.Labels)
	}
	if cms := managedConfigMaps(ctx, t, c, "plain"); len(cms) != 0 {
		t.Errorf("ConfigMaps were written in an unlabelled namespace: %d", len(cms))
	}
}

func checkOptOut(ctx context.Context, t *testing.T, c *framework.Cluster) {
	for _, value := range []string{"disabled", "false", "no"} {
		pod, err := c.Clientset.CoreV1().Pods("bookstore").Create(ctx,
			testPod("opted-out-", map[string]string{bootstrap.InjectionAnnotation: value}), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		if inject.Sidecar(&pod.Spec) != nil || len(pod.Spec.InitContainers) != 0 {
			t.Errorf("a pod annotated %s: %s was injected", bootstrap.InjectionAnnotation, value)
		}
	}
}

func checkMalformed(t *testing.T, c *framework.Cluster) {
	const doc = `apiVersion: v1
kind: Pod
metadata:
  name: bad-port
  namespace: bookstore
  annotations:
    tracing.openservicemesh.io/port: "99999"
spec:
  containers:
  - name: app
    image: busybox
`
	_, stderr, err := kubectlApply(t, c, doc)
	if err == nil {
		t.Fatal("kubectl apply of a pod with a malformed tracing annotation succeeded")
	}
	for _, want := range []string{`admission webhook "injector.openservicemesh.io" denied the request`, bootstrap.AnnotationPort, `"99999"`, "65535"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl's stderr lacks %q:\n%s", want, stderr)
		}
	}
	t.Logf("kubectl said: %s", strings.TrimSpace(stderr))
}

func checkDryRun(ctx context.Context, t *testing.T, c *framework.Cluster) {
	const doc = `apiVersion: v1
kind: Pod
metadata:
  name: dry
  namespace: bookstore
  annotations:
    tracing.openservicemesh.io/service-name: dry-run-only
spec:
  containers:
  - name: app
    image: busybox
`
	out, _, err := kubectlApply(t, c, doc, "--dry-run=server", "-o", "yaml")
	if err != nil {
		t.Fatalf("kubectl apply --dry-run=server: %v", err)
	}
	pod := &corev1.Pod{}
	if err := yaml.Unmarshal([]byte(out), pod); err != nil {
		t.Fatalf("decoding kubectl's output: %v\n%s", err, out)
	}
	if inject.Sidecar(&pod.Spec) == nil || findContainer(pod.Spec.InitContainers, "osm-init") == nil {
		t.Errorf("the dry run did not return the injected pod:\n%s", out)
	}
	hash := pod.Labels[bootstrap.BootstrapHashKey]
	for _, cm := range managedConfigMaps(ctx, t, c, "bookstore") {
		if cm.Labels[bootstrap.BootstrapHashKey] == hash || strings.Contains(cm.Name, "dry-run-only") {
			t.Errorf("the dry run wrote ConfigMap %s", cm.Name)
		}
	}
	if _, err := c.Clientset.CoreV1().Pods("bookstore").Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the dry run created the pod: %v", err)
	}
}

func checkGC(ctx context.Context, t *testing.T, c *framework.Cluster) {
	cms := managedConfigMaps(ctx, t, c, "bookbuyer")
	if len(cms) != 1 {
		t.Fatalf("want the bookbuyer ConfigMap before scaling down, got %d", len(cms))
	}
	kept := managedConfigMaps(ctx, t, c, "bookstore")
	if _, _, err := c.Kubectl("scale", "deployment/bookbuyer", "-n", "bookbuyer", "--replicas=0"); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(ctx, t, "the bookbuyer pods to go", func() error {
		list, err := c.Clientset.CoreV1().Pods("bookbuyer").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != 0 {
			return errorf("%d pods left", len(list.Items))
		}
		return nil
	})
	gone := time.Now()
	framework.Eventually(ctx, t, "the unreferenced ConfigMap to be deleted", func() error {
		_, err := c.Clientset.CoreV1().ConfigMaps("bookbuyer").Get(ctx, cms[0].Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errorf("still there (%v)", err)
	})
	if took := time.Since(gone); took < gcGrace-time.Second {
		t.Errorf("the ConfigMap was deleted %s after its last pod, before the grace period %s", took, gcGrace)
	}
	// ConfigMaps still referenced are kept.
	time.Sleep(gcGrace)
	for _, cm := range kept {
		if _, err := c.Clientset.CoreV1().ConfigMaps("bookstore").Get(ctx, cm.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("referenced ConfigMap %s was deleted: %v", cm.Name, err)
		}
	}
}

// bootstrapVolume is the name of the ConfigMap a pod mounts at /etc/envoy, or "".
func bootstrapVolume(pod *corev1.Pod) string {
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil && strings.HasPrefix(v.ConfigMap.Name, bootstrap.ConfigMapPrefix) {
			return v.ConfigMap.Name
		}
	}
	return ""
}

func names(cs []corev1.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// sidecarSafetyYAML is a StatefulSet with a tcpSocket readiness probe on a named port, an HTTP
// liveness probe, traffic exclusions and a concurrency on its template.
const sidecarSafetyYAML = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: bookstore
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
      annotations:
        openservicemesh.io/outbound-port-exclusion-list: "6379"
        openservicemesh.io/outbound-ip-range-exclusion-list: "169.254.169.254/32,fd00:ec2::254/128"
        openservicemesh.io/inbound-port-exclusion-list: "9102"
        openservicemesh.io/proxy-concurrency: "4"
    spec:
      containers:
      - name: mysql
        image: mysql:8
        ports:
        - {name: mysql, containerPort: 3306}
        readinessProbe:
          tcpSocket: {port: mysql}
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
`

// checkSidecarSafety creates sidecarSafetyYAML through the webhook and checks the pod the
// StatefulSet controller gets: envoy a native sidecar after osm-init, its concurrency, the
// exclusions and the tcpSocket probe's port in osm-init's redirect, the app's probes
// untouched; then that a malformed exclusion is denied with a precise message.
func checkSidecarSafety(ctx context.Context, t *testing.T, c *framework.Cluster) {
	if _, _, err := kubectlApply(t, c, sidecarSafetyYAML); err != nil {
		t.Fatalf("kubectl apply of the StatefulSet: %v", err)
	}
	var pod *corev1.Pod
	framework.Eventually(ctx, t, "the StatefulSet's pod", func() error {
		p, err := c.Clientset.CoreV1().Pods("bookstore").Get(ctx, "db-0", metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod = p
		return nil
	})
	if got := names(pod.Spec.InitContainers); len(got) != 2 || got[0] != inject.InitContainerName || got[1] != inject.EnvoyContainerName {
		t.Fatalf("init containers %v, want osm-init then envoy", got)
	}
	envoy := &pod.Spec.InitContainers[1]
	if envoy.RestartPolicy == nil || *envoy.RestartPolicy != corev1.ContainerRestartPolicyAlways || envoy.StartupProbe == nil {
		t.Errorf("envoy is not a native sidecar with a startup probe: restartPolicy %v, startupProbe %v", envoy.RestartPolicy, envoy.StartupProbe)
	}
	if args := strings.Join(envoy.Args, " "); !strings.Contains(args, "--concurrency 4") {
		t.Errorf("envoy args %q lack --concurrency 4", args)
	}
	if got := names(pod.Spec.Containers); len(got) != 1 || got[0] != "mysql" {
		t.Errorf("containers %v, want the app's only", got)
	}
	app := &pod.Spec.Containers[0]
	if app.ReadinessProbe == nil || app.ReadinessProbe.TCPSocket == nil || app.ReadinessProbe.TCPSocket.Port.StrVal != "mysql" ||
		app.LivenessProbe == nil || app.LivenessProbe.HTTPGet == nil || app.LivenessProbe.HTTPGet.Port.IntValue() != 8080 {
		t.Errorf("the app's probes were changed: readiness %+v, liveness %+v", app.ReadinessProbe, app.LivenessProbe)
	}
	// osm-init's command line, as osm-init reads it (its tests run it in network namespaces).
	initArgs := pod.Spec.InitContainers[0].Args
	specArgs, _, _ := redirect.SplitArgs(initArgs)
	spec, err := redirect.Parse(specArgs)
	if err != nil {
		t.Fatalf("osm-init's arguments %q: %v", initArgs, err)
	}
	if !slices.Contains(spec.InboundPortExclusions, 3306) || !slices.Contains(spec.InboundPortExclusions, 9102) { // 3306: the tcpSocket probe's port
		t.Errorf("osm-init's inbound exclusions %v lack 3306 (the tcpSocket probe's) and 9102", spec.InboundPortExclusions)
	}
	if !slices.Equal(spec.OutboundPortExclusions, []uint16{6379}) {
		t.Errorf("osm-init's outbound port exclusions = %v, want [6379]", spec.OutboundPortExclusions)
	}
	if got := fmt.Sprint(spec.OutboundIPExclusions); got != "[169.254.169.254/32 fd00:ec2::254/128]" {
		t.Errorf("osm-init's outbound range exclusions = %s", got)
	}

	const bad = `apiVersion: v1
kind: Pod
metadata:
  name: bad-cidr
  namespace: bookstore
  annotations:
    openservicemesh.io/outbound-ip-range-exclusion-list: "10.0.0.0/33"
spec:
  containers:
  - name: app
    image: busybox
`
	_, stderr, err := kubectlApply(t, c, bad)
	if err == nil {
		t.Fatal("kubectl apply of a pod with a malformed CIDR exclusion succeeded")
	}
	for _, want := range []string{"denied the request", inject.AnnotationOutboundIPExclusions, `"10.0.0.0/33"`, "CIDRs"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl's stderr lacks %q:\n%s", want, stderr)
		}
	}
}
