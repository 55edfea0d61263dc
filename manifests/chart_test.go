package manifests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

const testNamespace = "osm-system"

// rendered is the manifest of one chart rendering, split into objects.
type rendered struct {
	t     *testing.T
	objs  map[string][]byte // "Kind/name" -> YAML document
	notes string
}

// renderInstall renders the chart as `helm install --dry-run` (client only) does, with vals
// as --set would give them.
func renderInstall(t *testing.T, namespace string, vals map[string]any) (*rendered, error) {
	t.Helper()
	return renderInstallOn(t, &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}, namespace, vals)
}

// renderInstallOn is renderInstall on a cluster of the given Kubernetes version.
func renderInstallOn(t *testing.T, kubeVersion *chartutil.KubeVersion, namespace string, vals map[string]any) (*rendered, error) {
	t.Helper()
	ch := loadChart(t)
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ReleaseName = "osm"
	install.Namespace = namespace
	install.DryRun = true
	install.ClientOnly = true
	install.IncludeCRDs = true
	install.KubeVersion = kubeVersion
	rel, err := install.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	return split(t, rel.Manifest, rel.Info.Notes), nil
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := LoadChart()
	if err != nil {
		t.Fatalf("LoadChart: %v", err)
	}
	return ch
}

// split decodes every document of a manifest strictly: a duplicate key is an error (the API
// server would reject or silently merge it).
func split(t *testing.T, manifest, notes string) *rendered {
	t.Helper()
	r := &rendered{t: t, objs: map[string][]byte{}, notes: notes}
	for doc := range strings.SplitSeq(manifest, "\n---") {
		doc = strings.TrimSpace(strings.TrimPrefix(doc, "---"))
		if doc == "" {
			continue
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		var generic map[string]any
		if err := yaml.UnmarshalStrict([]byte(doc), &generic); err != nil {
			t.Fatalf("rendered document is not valid YAML: %v\n%s", err, doc)
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("decoding kind and name: %v", err)
		}
		key := head.Kind + "/" + head.Metadata.Name
		if _, dup := r.objs[key]; dup {
			t.Fatalf("%s is rendered twice", key)
		}
		r.objs[key] = []byte(doc)
	}
	return r
}

func (r *rendered) has(key string) bool {
	_, ok := r.objs[key]
	return ok
}

// get decodes the object into out strictly: a field the Go type does not know (a typo in a
// template) fails the test.
func (r *rendered) get(key string, out any) {
	r.t.Helper()
	doc, ok := r.objs[key]
	if !ok {
		r.t.Fatalf("%s is not rendered; rendered: %v", key, r.keys())
	}
	if err := yaml.UnmarshalStrict(doc, out); err != nil {
		r.t.Fatalf("decoding %s: %v\n%s", key, err, doc)
	}
}

func (r *rendered) keys() []string {
	keys := make([]string, 0, len(r.objs))
	for k := range r.objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func mustRender(t *testing.T, namespace string, vals map[string]any) *rendered {
	t.Helper()
	r, err := renderInstall(t, namespace, vals)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return r
}

// set turns --set style pairs into nested values.
func set(pairs ...string) map[string]any {
	vals := map[string]any{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		var parsed any
		if err := yaml.Unmarshal([]byte(v), &parsed); err != nil || v == "" {
			parsed = v
		}
		m := vals
		parts := strings.Split(k, ".")
		for _, part := range parts[:len(parts)-1] {
			next, ok := m[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[part] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = parsed
	}
	return vals
}

func injectorContainer(t *testing.T, r *rendered) corev1.Container {
	t.Helper()
	var d appsv1.Deployment
	r.get("Deployment/osm-injector", &d)
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("osm-injector has %d containers, want 1", n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

// argsAccepted fails unless osm-injector's own command line accepts every argument the chart
// passes it (a flag it does not know would crash-loop the Deployment).
func argsAccepted(t *testing.T, args []string) {
	t.Helper()
	cmd := app.NewCommand()
	if err := cmd.ParseFlags(args); err != nil {
		t.Errorf("osm-injector refuses the chart's arguments %q: %v", args, err)
	}
	if rest := cmd.Flags().Args(); len(rest) > 0 {
		t.Errorf("osm-injector takes no positional arguments, the chart passes %q", rest)
	}
}

func argValue(args []string, flag string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestChartDefaults(t *testing.T) {
	r := mustRender(t, testNamespace, nil)

	for _, key := range []string{
		"CustomResourceDefinition/meshconfigs.config.openservicemesh.io",
		"ServiceAccount/osm-injector",
		"ClusterRole/osm-injector-osm-system",
		"ClusterRoleBinding/osm-injector-osm-system",
		"Role/osm-injector",
		"RoleBinding/osm-injector",
		"Deployment/osm-injector",
		"PodDisruptionBudget/osm-injector",
		"Service/osm-injector",
		"MeshConfig/osm-mesh-config",
		"MutatingWebhookConfiguration/osm-injector",
	} {
		if !r.has(key) {
			t.Errorf("%s is not rendered; rendered: %v", key, r.keys())
		}
	}
	for _, key := range []string{"Deployment/jaeger", "Service/jaeger"} {
		if r.has(key) {
			t.Errorf("%s is rendered although osm.deployJaeger is false", key)
		}
	}

	t.Run("injector deployment", func(t *testing.T) {
		var d appsv1.Deployment
		r.get("Deployment/osm-injector", &d)
		if d.Namespace != testNamespace {
			t.Errorf("namespace = %q, want %q", d.Namespace, testNamespace)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
		}
		pod := d.Spec.Template.Spec
		if pod.ServiceAccountName != "osm-injector" {
			t.Errorf("serviceAccountName = %q", pod.ServiceAccountName)
		}
		if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			t.Errorf("pod securityContext.runAsNonRoot is not true: %+v", psc)
		}
		c := injectorContainer(t, r)
		if c.Image != "ghcr.io/osm-tracing/osm-injector:0.1.0" {
			t.Errorf("image = %q, want the appVersion tag", c.Image)
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container securityContext is not locked down: %+v", sc)
		}
		want := map[string]string{
			"--osm-namespace":             testNamespace,
			"--mesh-config-name":          "osm-mesh-config",
			"--webhook-port":              "9443",
			"--webhook-failure-policy":    "Ignore",
			"--webhook-timeout-seconds":   "10",
			"--leader-elect":              "true",
			"--max-concurrent-rollouts":   "2",
			"--configmap-gc-grace":        "5m",
			"--health-probe-bind-address": ":8081",
			"--mesh-name":                 "osm",
			"--zap-log-level":             "info",
			"--envoy-image":               "envoyproxy/envoy:v1.37.0",
			"--init-image":                "ghcr.io/osm-tracing/osm-init:0.1.0",
			"--envoy-log-level":           "info",
			"--envoy-concurrency":         "2",
		}
		for flag, v := range want {
			got, ok := argValue(c.Args, flag)
			if !ok || got != v {
				t.Errorf("arg %s = %q (present %v), want %q; args: %q", flag, got, ok, v, c.Args)
			}
		}
		argsAccepted(t, c.Args)
		for _, flag := range []string{"--webhook-url", "--outbound-port-exclusion-list", "--inbound-port-exclusion-list",
			"--outbound-ip-range-exclusion-list", "--outbound-ip-range-inclusion-list"} {
			if _, ok := argValue(c.Args, flag); ok {
				t.Errorf("%s is passed although its value is empty", flag)
			}
		}
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		if ports["webhook"] != 9443 || ports["health"] != 8081 {
			t.Errorf("container ports = %v, want webhook 9443 and health 8081", ports)
		}
		for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Port.String() != "health" {
				t.Errorf("%s probe is not an HTTP probe on the health port: %+v", name, probe)
			}
		}
		if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("probe paths = %q, %q", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("resources are not set: %+v", c.Resources)
		}
	})

	t.Run("pod disruption budget", func(t *testing.T) {
		var pdb policyv1.PodDisruptionBudget
		r.get("PodDisruptionBudget/osm-injector", &pdb)
		if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
			t.Errorf("minAvailable = %v, want 1", pdb.Spec.MinAvailable)
		}
		if pdb.Spec.Selector.MatchLabels["app"] != "osm-injector" {
			t.Errorf("selector = %v", pdb.Spec.Selector)
		}
	})

	t.Run("service", func(t *testing.T) {
		var svc corev1.Service
		r.get("Service/osm-injector", &svc)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.String() != "webhook" {
			t.Errorf("ports = %+v, want 443 -> webhook", svc.Spec.Ports)
		}
		var d appsv1.Deployment
		r.get("Deployment/osm-injector", &d)
		for k, v := range svc.Spec.Selector {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("service selector %s=%s does not match the injector pods %v", k, v, d.Spec.Template.Labels)
			}
		}
	})

	t.Run("rbac", func(t *testing.T) {
		var cr rbacv1.ClusterRole
		r.get("ClusterRole/osm-injector-osm-system", &cr)
		allows := func(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
			for _, rule := range rules {
				if slices.Contains(rule.APIGroups, group) && slices.Contains(rule.Resources, resource) &&
					slices.Contains(rule.Verbs, verb) {
					return true
				}
			}
			return false
		}
		for _, want := range [][3]string{
			{"", "pods", "watch"},
			{"", "namespaces", "get"},
			{"", "configmaps", "create"},
			{"", "configmaps", "delete"},
			{"apps", "deployments", "patch"},
			{"apps", "statefulsets", "patch"},
			{"apps", "daemonsets", "patch"},
			{"apps", "replicasets", "list"},
			{"config.openservicemesh.io", "meshconfigs", "watch"},
			{"config.openservicemesh.io", "meshconfigs/status", "patch"},
			{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", "patch"},
			{"", "events", "create"},
		} {
			if !allows(cr.Rules, want[0], want[1], want[2]) {
				t.Errorf("ClusterRole does not allow %s on %s.%s", want[2], want[1], want[0])
			}
		}
		for _, never := range [][3]string{
			{"", "secrets", "get"},
			{"", "pods", "delete"},
			// The chart creates the webhook configuration; a replica must not be able to bring
			// it back after an uninstall deleted it.
			{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", "create"},
			{"", "configmaps", "update"},
			{"config.openservicemesh.io", "meshconfigs", "update"},
		} {
			if allows(cr.Rules, never[0], never[1], never[2]) {
				t.Errorf("ClusterRole allows %s on %s.%s; least privilege says no", never[2], never[1], never[0])
			}
		}
		for _, rule := range cr.Rules {
			if slices.Contains(rule.Verbs, "*") || slices.Contains(rule.Resources, "*") {
				t.Errorf("ClusterRole has a wildcard rule: %+v", rule)
			}
			if slices.Contains(rule.Resources, "mutatingwebhookconfigurations") && slices.Contains(rule.Verbs, "update") &&
				!slices.Equal(rule.ResourceNames, []string{webhook.ConfigurationName}) {
				t.Errorf("update of webhook configurations is not limited to the release's own: %+v", rule)
			}
		}
		var role rbacv1.Role
		r.get("Role/osm-injector", &role)
		if role.Namespace != testNamespace {
			t.Errorf("Role namespace = %q", role.Namespace)
		}
		for _, want := range [][3]string{
			{"", "secrets", "create"},
			{"", "secrets", "update"},
			{"coordination.k8s.io", "leases", "update"},
		} {
			if !allows(role.Rules, want[0], want[1], want[2]) {
				t.Errorf("Role does not allow %s on %s.%s", want[2], want[1], want[0])
			}
		}
	})

	t.Run("mesh config", func(t *testing.T) {
		var mc v1alpha2.MeshConfig
		r.get("MeshConfig/osm-mesh-config", &mc)
		tr := mc.Spec.Observability.Tracing
		if mc.Namespace != testNamespace || tr.Enable == nil || *tr.Enable ||
			tr.Address != "jaeger.osm-system.svc.cluster.local" || tr.Port == nil || *tr.Port != 9411 ||
			tr.Endpoint != "/api/v2/spans" || tr.Sampling == nil || *tr.Sampling != 100 ||
			tr.Propagation != bootstrap.Defaults(testNamespace).Propagation {
			t.Errorf("MeshConfig = %s, want the injector's defaults", r.objs["MeshConfig/osm-mesh-config"])
		}
	})

	t.Run("webhook configuration", func(t *testing.T) {
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		r.get("MutatingWebhookConfiguration/osm-injector", &mwc)
		if len(mwc.Webhooks) != 1 {
			t.Fatalf("%d webhooks, want 1", len(mwc.Webhooks))
		}
		wh := mwc.Webhooks[0]
		if wh.FailurePolicy == nil || *wh.FailurePolicy != admissionregistrationv1.Ignore {
			t.Errorf("failurePolicy = %v, want Ignore", wh.FailurePolicy)
		}
		if len(wh.ClientConfig.CABundle) != 0 {
			t.Errorf("the chart renders a caBundle; osm-injector owns it")
		}
		svc := wh.ClientConfig.Service
		if wh.ClientConfig.URL != nil || svc == nil || svc.Name != "osm-injector" || svc.Namespace != testNamespace ||
			svc.Port == nil || *svc.Port != 443 {
			t.Errorf("clientConfig = %+v, want the osm-injector Service on 443", wh.ClientConfig)
		}
		sameAsInjector(t, &mwc, webhook.ConfigOptions{
			ControlPlaneNamespace: testNamespace,
			MeshName:              "osm",
			FailurePolicy:         admissionregistrationv1.Ignore,
			TimeoutSeconds:        10,
		})
	})

	t.Run("CRD in the chart is the generated one", func(t *testing.T) {
		const name = "config.openservicemesh.io_meshconfigs.yaml"
		generated, err := fs.ReadFile(CRDs, "crds/"+name)
		if err != nil {
			t.Fatal(err)
		}
		inChart, err := fs.ReadFile(ChartFS, "crds/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(generated, inChart) {
			t.Errorf("charts/osm/crds/%s differs from crds/%s: run make generate", name, name)
		}
	})
}

// TestChartKubernetesVersion: helm refuses clusters older than 1.31 (see Chart.yaml), and lets
// vendors' builds of 1.31, which semver counts as pre-releases, in.
func TestChartKubernetesVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v1.30.14":      false,
		"v1.28.3-eks-1": false,
		"v1.31.0":       true,
		"v1.31.2-eks-1": true,
		"v1.37.2":       true,
	} {
		minor := strings.Split(v, ".")[1]
		_, err := renderInstallOn(t, &chartutil.KubeVersion{Version: v, Major: "1", Minor: minor}, testNamespace, nil)
		switch {
		case ok && err != nil:
			t.Errorf("Kubernetes %s is refused: %v", v, err)
		case !ok && (err == nil || !strings.Contains(err.Error(), "kubeVersion")):
			t.Errorf("Kubernetes %s: want helm's kubeVersion refusal, got %v", v, err)
		}
	}
}

func TestChartJaegerAndTracing(t *testing.T) {
	// The guide's install command: osm install --set=osm.deployJaeger=true,osm.tracing.enable=true
	r := mustRender(t, testNamespace, set("osm.deployJaeger=true", "osm.tracing.enable=true"))

	var d appsv1.Deployment
	r.get("Deployment/jaeger", &d)
	if d.Namespace != testNamespace || d.Labels["app"] != "jaeger" || d.Spec.Template.Labels["app"] != "jaeger" {
		t.Errorf("Jaeger Deployment is not app=jaeger in %s: %+v / %+v", testNamespace, d.Labels, d.Spec.Template.Labels)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "jaegertracing/jaeger:2.13.0" {
		t.Errorf("Jaeger image = %q", img)
	}
	var svc corev1.Service
	r.get("Service/jaeger", &svc)
	if svc.Labels["app"] != "jaeger" {
		t.Errorf("Jaeger Service labels = %v, want app=jaeger", svc.Labels)
	}
	ports := map[int32]string{}
	for _, p := range svc.Spec.Ports {
		ports[p.Port] = p.TargetPort.String()
	}
	if ports[9411] != "zipkin" || ports[16686] != "ui" || ports[4317] != "otlp-grpc" || ports[4318] != "otlp-http" || len(ports) != 4 {
		t.Errorf("Jaeger Service ports = %v, want 9411 (zipkin), 16686 (ui), 4317 (otlp-grpc) and 4318 (otlp-http)", ports)
	}
	containerPorts := map[string]int32{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		containerPorts[p.Name] = p.ContainerPort
	}
	if containerPorts["zipkin"] != 9411 || containerPorts["ui"] != 16686 {
		t.Errorf("Jaeger container ports = %v", containerPorts)
	}
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("Jaeger Service selector %s=%s does not match its pods", k, v)
		}
	}

	var mc v1alpha2.MeshConfig
	r.get("MeshConfig/osm-mesh-config", &mc)
	tr := mc.Spec.Observability.Tracing
	if tr.Enable == nil || !*tr.Enable || tr.Address != "jaeger.osm-system.svc.cluster.local" {
		t.Errorf("MeshConfig tracing = %+v, want enabled towards the chart's Jaeger", tr)
	}
	if !strings.Contains(r.notes, "kubectl port-forward -n osm-system deploy/jaeger 16686:16686") {
		t.Errorf("NOTES do not explain how to reach Jaeger:\n%s", r.notes)
	}
}

func TestChartBringYourOwnCollector(t *testing.T) {
	// The guide's install for a self-managed Jaeger.
	r := mustRender(t, "mesh", set("osm.tracing.enable=true", "osm.tracing.address=10.1.2.3",
		"osm.tracing.port=14411", "osm.tracing.endpoint=/zipkin/spans", "osm.tracing.sampling=12.5",
		"osm.tracing.propagation=b3"))
	var mc v1alpha2.MeshConfig
	r.get("MeshConfig/osm-mesh-config", &mc)
	tr := mc.Spec.Observability.Tracing
	if mc.Namespace != "mesh" || tr.Address != "10.1.2.3" || *tr.Port != 14411 || tr.Endpoint != "/zipkin/spans" || *tr.Sampling != 12.5 ||
		tr.Propagation != bootstrap.PropagationB3 {
		t.Errorf("MeshConfig = %s", r.objs["MeshConfig/osm-mesh-config"])
	}
	if r.has("Deployment/jaeger") {
		t.Errorf("Jaeger is deployed although osm.deployJaeger is false")
	}
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	r.get("MutatingWebhookConfiguration/osm-injector", &mwc)
	sameAsInjector(t, &mwc, webhook.ConfigOptions{
		ControlPlaneNamespace: "mesh",
		MeshName:              "osm",
		FailurePolicy:         admissionregistrationv1.Ignore,
		TimeoutSeconds:        10,
	})
}

func TestChartOpenTelemetry(t *testing.T) {
	// osm install --set osm.tracing.protocol=opentelemetry,osm.tracing.port=4317: OTLP to the
	// chart's Jaeger on 4317, no Zipkin endpoint (the CRD's CEL rule would refuse another
	// one), and the MeshConfig the injector accepts. The port is written, 9411 by default, so
	// that the guide's jsonpath shows it; null leaves it out and the injector's default by
	// protocol applies.
	for _, tc := range []struct {
		vals    []string
		written bool
		port    int32
	}{
		{[]string{"osm.tracing.enable=true", "osm.tracing.protocol=opentelemetry", "osm.tracing.port=4317"}, true, 4317},
		{[]string{"osm.tracing.protocol=opentelemetry", "osm.tracing.port=14317"}, true, 14317},
		// The protocol alone keeps the default 9411, where OTLP is not spoken: values.yaml says
		// to set 4317 with it, and osm tracing check prints the patch (TestProtocolMismatch).
		{[]string{"osm.tracing.protocol=opentelemetry"}, true, 9411},
		{[]string{"osm.tracing.protocol=opentelemetry", "osm.tracing.port=null"}, false, 4317},
		{[]string{"osm.tracing.protocol=zipkin"}, true, 9411},
		{[]string{"osm.tracing.protocol=zipkin", "osm.tracing.port=null"}, false, 9411},
	} {
		r := mustRender(t, testNamespace, set(tc.vals...))
		var mc v1alpha2.MeshConfig
		r.get("MeshConfig/osm-mesh-config", &mc)
		tr := mc.Spec.Observability.Tracing
		otel := tr.Protocol == bootstrap.ProtocolOpenTelemetry
		if (tr.Port != nil) != tc.written || tc.written && *tr.Port != tc.port || otel == (tr.Endpoint != "") {
			t.Errorf("%v: MeshConfig = %s", tc.vals, r.objs["MeshConfig/osm-mesh-config"])
		}
		got, err := bootstrap.MeshTracing(bootstrap.Defaults(testNamespace), &v1alpha2.ObservabilitySpec{Tracing: tr})
		if err != nil || got.Port != uint32(tc.port) {
			t.Errorf("%v: the injector reads port %d, %v; want %d", tc.vals, got.Port, err, tc.port)
		}
	}
}

func TestChartPatchProtocol(t *testing.T) {
	// The chart's default MeshConfig writes port 9411, so the protocol is switched together
	// with the port, {"protocol":"opentelemetry","port":4317}, as values.yaml and osm tracing
	// check's hint say: the sidecars go to 4317. The protocol alone keeps them on 9411. And
	// back, with the port.
	r := mustRender(t, testNamespace, set("osm.deployJaeger=true", "osm.tracing.enable=true"))
	var mc v1alpha2.MeshConfig
	r.get("MeshConfig/osm-mesh-config", &mc)
	tr := mc.Spec.Observability.Tracing
	got, err := bootstrap.MeshTracing(bootstrap.Defaults(testNamespace), &v1alpha2.ObservabilitySpec{Tracing: tr})
	if err != nil || got.Protocol != bootstrap.ProtocolZipkin || got.Port != 9411 || got.Endpoint != "/api/v2/spans" {
		t.Fatalf("as installed: %+v, %v; want zipkin to 9411 /api/v2/spans", got, err)
	}
	alone := tr
	alone.Protocol = bootstrap.ProtocolOpenTelemetry
	if got, err = bootstrap.MeshTracing(bootstrap.Defaults(testNamespace), &v1alpha2.ObservabilitySpec{Tracing: alone}); err != nil || got.Port != 9411 {
		t.Errorf("after patching the protocol alone: %+v, %v; want port 9411 kept", got, err)
	}
	otlpPort, zipkinPort := int32(bootstrap.DefaultOTLPPort), int32(bootstrap.DefaultZipkinPort)
	tr.Protocol, tr.Port = bootstrap.ProtocolOpenTelemetry, &otlpPort
	got, err = bootstrap.MeshTracing(bootstrap.Defaults(testNamespace), &v1alpha2.ObservabilitySpec{Tracing: tr})
	if err != nil || got.Port != bootstrap.DefaultOTLPPort || got.Endpoint != "" {
		t.Errorf("after patching protocol opentelemetry and port 4317: %+v, %v; want port 4317 and no endpoint", got, err)
	}
	tr.Protocol, tr.Port = bootstrap.ProtocolZipkin, &zipkinPort
	if got, err = bootstrap.MeshTracing(bootstrap.Defaults(testNamespace), &v1alpha2.ObservabilitySpec{Tracing: tr}); err != nil || got.Port != 9411 {
		t.Errorf("after patching back to zipkin and 9411: %+v, %v; want port 9411", got, err)
	}
}

func TestChartWebhookURL(t *testing.T) {
	// The base URL, as osm-injector's --webhook-url takes it; the webhook path is appended.
	const base = "https://127.0.0.1:9443"
	r := mustRender(t, testNamespace, set("osm.webhook.url="+base, "osm.webhook.failurePolicy=Fail",
		"osm.webhook.timeoutSeconds=5", "osm.injector.replicas=1"))
	if r.has("PodDisruptionBudget/osm-injector") {
		t.Errorf("a PodDisruptionBudget with minAvailable 1 is rendered for a single replica; it would block drains")
	}
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	r.get("MutatingWebhookConfiguration/osm-injector", &mwc)
	wh := mwc.Webhooks[0]
	if wh.ClientConfig.URL == nil || *wh.ClientConfig.URL != base+webhook.Path || wh.ClientConfig.Service != nil {
		t.Errorf("clientConfig = %+v, want only url %s%s", wh.ClientConfig, base, webhook.Path)
	}
	if *wh.FailurePolicy != admissionregistrationv1.Fail || *wh.TimeoutSeconds != 5 {
		t.Errorf("failurePolicy, timeoutSeconds = %v, %v; want Fail, 5", *wh.FailurePolicy, *wh.TimeoutSeconds)
	}
	sameAsInjector(t, &mwc, webhook.ConfigOptions{
		ControlPlaneNamespace: testNamespace,
		MeshName:              "osm",
		URL:                   base,
		FailurePolicy:         admissionregistrationv1.Fail,
		TimeoutSeconds:        5,
	})
	// A URL that already ends with the path is taken as it is, as the injector does.
	r = mustRender(t, testNamespace, set("osm.webhook.url="+base+webhook.Path+"/"))
	r.get("MutatingWebhookConfiguration/osm-injector", &mwc)
	if got := *mwc.Webhooks[0].ClientConfig.URL; got != base+webhook.Path {
		t.Errorf("url = %q, want %q", got, base+webhook.Path)
	}

	c := injectorContainer(t, mustRender(t, testNamespace, set("osm.webhook.url="+base, "osm.webhook.failurePolicy=Fail",
		"osm.webhook.timeoutSeconds=5", "osm.injector.replicas=1")))
	argsAccepted(t, c.Args)
	for flag, want := range map[string]string{
		"--webhook-url":             base,
		"--webhook-failure-policy":  "Fail",
		"--webhook-timeout-seconds": "5",
	} {
		if got, _ := argValue(c.Args, flag); got != want {
			t.Errorf("arg %s = %q, want %q", flag, got, want)
		}
	}
}

func TestChartRefusesBadValues(t *testing.T) {
	tests := map[string]struct {
		vals []string
		want string
	}{
		"an unknown certificate provider": {
			vals: []string{"osm.certificateProvider=vault"},
			want: "certificateProvider",
		},
		"a port out of range": {
			vals: []string{"osm.tracing.port=70000"},
			want: "port",
		},
		"an endpoint without a leading slash": {
			vals: []string{"osm.tracing.endpoint=api"},
			want: "endpoint",
		},
		"sampling above 100": {
			vals: []string{"osm.tracing.sampling=101"},
			want: "sampling",
		},
		"an unknown propagation": {
			vals: []string{"osm.tracing.propagation=w3c"},
			want: "propagation",
		},
		"an unknown failure policy": {
			vals: []string{"osm.webhook.failurePolicy=Sometimes"},
			want: "failurePolicy",
		},
		"a plain http webhook url": {
			vals: []string{"osm.webhook.url=http://127.0.0.1:9443"},
			want: "url",
		},
		"no Envoy worker thread": {
			vals: []string{"osm.sidecar.concurrency=0"},
			want: "concurrency",
		},
		"more than 64 Envoy worker threads": {
			vals: []string{"osm.sidecar.concurrency=65"},
			want: "concurrency",
		},
		"an excluded port out of range": {
			vals: []string{"osm.outboundPortExclusionList=[3306, 70000]"},
			want: "outboundPortExclusionList",
		},
		"excluded port zero": {
			vals: []string{"osm.inboundPortExclusionList=[0]"},
			want: "inboundPortExclusionList",
		},
		"an excluded port given as a name": {
			vals: []string{"osm.inboundPortExclusionList=[http]"},
			want: "inboundPortExclusionList",
		},
		"a comma-separated string instead of a list": {
			vals: []string{"osm.outboundPortExclusionList=3306,6379"},
			want: "outboundPortExclusionList",
		},
		"an address without a prefix length": {
			vals: []string{"osm.outboundIPRangeExclusionList=[169.254.169.254]"},
			want: "outboundIPRangeExclusionList",
		},
		"an IPv4 prefix longer than 32": {
			vals: []string{"osm.outboundIPRangeExclusionList=[10.0.0.0/33]"},
			want: "outboundIPRangeExclusionList",
		},
		"an IPv6 prefix longer than 128": {
			vals: []string{"osm.outboundIPRangeInclusionList=['fd00::/129']"},
			want: "outboundIPRangeInclusionList",
		},
		"a host name instead of a CIDR": {
			vals: []string{"osm.outboundIPRangeInclusionList=[example.com/8]"},
			want: "outboundIPRangeInclusionList",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := renderInstall(t, testNamespace, set(tc.vals...))
			if err == nil {
				t.Fatalf("the chart rendered with %v", tc.vals)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %q: %v", tc.want, err)
			}
		})
	}
}

// TestChartUpgradeKeepsMeshConfig renders the chart as `helm upgrade` does against a cluster
// whose MeshConfig was patched at runtime: the live spec must come back unchanged, whatever
// the values say.
func TestChartUpgradeKeepsMeshConfig(t *testing.T) {
	live := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "config.openservicemesh.io/v1alpha2",
		"kind":       "MeshConfig",
		"metadata":   map[string]any{"name": "osm-mesh-config", "namespace": testNamespace},
		"spec": map[string]any{"observability": map[string]any{"tracing": map[string]any{
			"enable": true, "address": "collector.tracing.svc", "port": int64(9412),
			"endpoint": "/custom", "sampling": 5.5,
		}}},
	}}
	gvr := schema.GroupVersionResource{Group: "config.openservicemesh.io", Version: "v1alpha2", Resource: "meshconfigs"}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{gvr: "MeshConfigList"}, live)

	ch := loadChart(t)
	vals, err := chartutil.ToRenderValues(ch, set("osm.tracing.enable=false"), chartutil.ReleaseOptions{
		Name: "osm", Namespace: testNamespace, Revision: 2, IsUpgrade: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.RenderWithClientProvider(ch, vals, fakeProvider{client: client, gvr: gvr})
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	var manifest strings.Builder
	for name, doc := range out {
		if strings.HasSuffix(name, "meshconfig.yaml") {
			manifest.WriteString(doc)
		}
	}
	r := split(t, manifest.String(), "")
	var mc v1alpha2.MeshConfig
	r.get("MeshConfig/osm-mesh-config", &mc)
	tr := mc.Spec.Observability.Tracing
	if tr.Enable == nil || !*tr.Enable || tr.Address != "collector.tracing.svc" || *tr.Port != 9412 ||
		tr.Endpoint != "/custom" || *tr.Sampling != 5.5 {
		t.Errorf("upgrade rendered %s, want the live spec back", r.objs["MeshConfig/osm-mesh-config"])
	}
	var notes string
	for name, doc := range out {
		if strings.HasSuffix(name, "NOTES.txt") {
			notes = doc
		}
	}
	if !strings.Contains(notes, "kept its settings") {
		t.Errorf("NOTES do not say the MeshConfig was kept:\n%s", notes)
	}
}

type fakeProvider struct {
	client dynamic.Interface
	gvr    schema.GroupVersionResource
}

func (p fakeProvider) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	if apiVersion != p.gvr.GroupVersion().String() || kind != "MeshConfig" {
		return nil, false, fmt.Errorf("the test has no client for %s %s", apiVersion, kind)
	}
	return p.client.Resource(p.gvr), true, nil
}

// sameAsInjector fails unless the chart's webhook configuration is what osm-injector applies at
// run time for the same settings (caBundle aside): the two write one object, and any
// difference would flap between helm upgrades and the injector.
func sameAsInjector(t *testing.T, got *admissionregistrationv1.MutatingWebhookConfiguration, opts webhook.ConfigOptions) {
	t.Helper()
	applied, err := webhook.Configuration(opts)
	if err != nil {
		t.Fatalf("webhook.Configuration: %v", err)
	}
	data, err := json.Marshal(applied)
	if err != nil {
		t.Fatal(err)
	}
	var want admissionregistrationv1.MutatingWebhookConfiguration
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name {
		t.Errorf("the chart names the webhook configuration %q, osm-injector applies %q", got.Name, want.Name)
	}
	if diff := cmp.Diff(want.Webhooks, got.Webhooks); diff != "" {
		t.Errorf("the chart's webhooks differ from what osm-injector applies (-injector +chart):\n%s", diff)
	}
	for k, v := range want.Labels {
		if k != bootstrap.ManagedByLabel && got.Labels[k] != v {
			t.Errorf("label %s = %q, osm-injector applies %q", k, got.Labels[k], v)
		}
	}
}

// TestChartDefaultsMatchTheInjector checks that the chart's defaults are osm-injector's own, so
// that an injector started by hand (the demo, the tests) behaves as the installed one.
func TestChartDefaultsMatchTheInjector(t *testing.T) {
	c := injectorContainer(t, mustRender(t, testNamespace, nil))
	def := app.DefaultOptions()
	proxy := inject.DefaultProxyConfig()
	for flag, want := range map[string]string{
		"--webhook-port":              fmt.Sprint(def.WebhookPort),
		"--webhook-failure-policy":    def.FailurePolicy,
		"--webhook-timeout-seconds":   fmt.Sprint(def.TimeoutSeconds),
		"--max-concurrent-rollouts":   fmt.Sprint(def.MaxConcurrentRollouts),
		"--metrics-bind-address":      def.MetricsBindAddress,
		"--health-probe-bind-address": def.HealthProbeBindAddress,
		"--mesh-name":                 def.MeshName,
		"--envoy-image":               proxy.EnvoyImage,
		"--init-image":                proxy.InitImage,
		"--envoy-log-level":           proxy.LogLevel,
		"--envoy-concurrency":         fmt.Sprint(def.EnvoyConcurrency),
	} {
		if got, _ := argValue(c.Args, flag); got != want {
			t.Errorf("chart default %s=%q, osm-injector's default is %q", flag, got, want)
		}
	}
	grace, _ := argValue(c.Args, "--configmap-gc-grace")
	if d, err := time.ParseDuration(grace); err != nil || d != def.ConfigMapGCGrace {
		t.Errorf("chart default --configmap-gc-grace=%q, osm-injector's default is %s", grace, def.ConfigMapGCGrace)
	}

	vals := loadChart(t).Values
	res, _, err := unstructured.NestedMap(vals, "osm", "sidecar", "resources")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var chartRes corev1.ResourceRequirements
	if err := json.Unmarshal(data, &chartRes); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(chartRes, proxy.Resources) {
		t.Errorf("osm.sidecar.resources = %+v, osm-injector's default is %+v", chartRes, proxy.Resources)
	}
}

func TestEmbeddedFiles(t *testing.T) {
	for name, fsys := range map[string]fs.FS{"CRDs": CRDs, "DemoFS": DemoFS} {
		dir := map[string]string{"CRDs": "crds", "DemoFS": "demo"}[name]
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil || len(entries) == 0 {
			t.Errorf("%s holds no %s/*.yaml (err %v)", name, dir, err)
		}
	}
	if _, err := fs.Stat(ChartFS, "templates/_helpers.tpl"); err != nil {
		t.Errorf("ChartFS misses files whose names begin with '_': %v", err)
	}
	ch := loadChart(t)
	if ch.Metadata.Name != "osm" || ch.Schema == nil || len(ch.CRDObjects()) != 1 {
		t.Errorf("the embedded chart is %q with schema %t and %d CRDs; want osm, a schema and 1 CRD",
			ch.Metadata.Name, ch.Schema != nil, len(ch.CRDObjects()))
	}
}

// TestChartGracefulShutdown: the injector is told not to create its webhook configuration and
// how to stop, and the kubelet waits longer than that stop may take.
func TestChartGracefulShutdown(t *testing.T) {
	for _, tc := range []struct {
		vals                 map[string]any
		delay, drain         string
		wantGracePeriodInSec int64
	}{
		{vals: nil, delay: "5s", drain: "15s", wantGracePeriodInSec: 25},
		{vals: set("osm.injector.shutdownDelay=0s", "osm.injector.gracefulShutdownTimeout=40s"),
			delay: "0s", drain: "40s", wantGracePeriodInSec: 45},
	} {
		r := mustRender(t, testNamespace, tc.vals)
		var d appsv1.Deployment
		r.get("Deployment/osm-injector", &d)
		args := d.Spec.Template.Spec.Containers[0].Args
		argsAccepted(t, args)
		for flag, want := range map[string]string{
			"--create-webhook-configuration": "false",
			"--shutdown-delay":               tc.delay,
			"--graceful-shutdown-timeout":    tc.drain,
		} {
			if got, _ := argValue(args, flag); got != want {
				t.Errorf("%v: %s=%q, want %q", tc.vals, flag, got, want)
			}
		}
		if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g != tc.wantGracePeriodInSec {
			t.Errorf("%v: terminationGracePeriodSeconds = %v, want %d (delay + drain + 5s)", tc.vals, g, tc.wantGracePeriodInSec)
		}
		if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
			t.Errorf("the readiness probe is not /readyz: %+v", p)
		}
	}
	for _, bad := range []string{"5", "1m", "2.5s", "-1s"} {
		if _, err := renderInstall(t, testNamespace, set("osm.injector.shutdownDelay="+bad)); err == nil ||
			!strings.Contains(err.Error(), "shutdownDelay") {
			t.Errorf("shutdownDelay %q: err %v, want a schema error naming the value", bad, err)
		}
	}
	if _, err := renderInstall(t, testNamespace, set("osm.injector.gracefulShutdownTimeout=0s")); err == nil {
		t.Errorf("gracefulShutdownTimeout 0s was accepted")
	}
}

// TestChartSeedsAccessLog: osm.accessLog.enable seeds the MeshConfig's
// spec.observability.accessLog, off by default, and the injector's core reads it.
func TestChartSeedsAccessLog(t *testing.T) {
	for _, on := range []bool{false, true} {
		vals := map[string]any{}
		if on {
			vals = map[string]any{"osm": map[string]any{"accessLog": map[string]any{"enable": true}}}
		}
		r, err := renderInstall(t, testNamespace, vals)
		if err != nil {
			t.Fatal(err)
		}
		var mc v1alpha2.MeshConfig
		r.get("MeshConfig/"+bootstrap.DefaultMeshConfigName, &mc)
		if e := mc.Spec.Observability.AccessLog.Enable; e == nil || *e != on {
			t.Errorf("osm.accessLog.enable=%v: the MeshConfig's accessLog.enable is %v", on, e)
		}
		tr, err := bootstrap.MeshTracing(bootstrap.Defaults(testNamespace), &mc.Spec.Observability)
		if err != nil || tr.AccessLog != on {
			t.Errorf("osm.accessLog.enable=%v: MeshTracing gives access log %v, %v", on, tr.AccessLog, err)
		}
	}
}
