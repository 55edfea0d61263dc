package inject_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// meshOn is the guide's kubectl patch: tracing on, to the Jaeger of osm-system.
var meshOn = &v1alpha2.TracingSpec{
	Enable:   new(true),
	Address:  "jaeger.osm-system.svc.cluster.local",
	Port:     new(int32(9411)),
	Endpoint: "/api/v2/spans",
}

// goldenEnv is the environment of the golden files.
func goldenEnv(mesh *v1alpha2.TracingSpec) inject.Env {
	return inject.Env{
		ControlPlaneNamespace: "osm-system",
		Defaults:              bootstrap.Defaults("osm-system"),
		Mesh:                  observability(mesh),
		Proxy:                 inject.DefaultProxyConfig(),
	}
}

// goldenSummary is what a golden file says of a mutation besides the pod.
type goldenSummary struct {
	ServiceName string            `json:"serviceName"`
	Tracing     bootstrap.Tracing `json:"tracing"`
	ConfigMap   string            `json:"configMap"`
}

// mutationGolden renders a mutation for a golden file: a summary and the pod, bootstrap hash
// included, so that a change of the bootstrap's bytes (which renames the ConfigMap and
// relabels the pod) fails the golden test.
func mutationGolden(t *testing.T, res inject.Result) []byte {
	t.Helper()
	sum := goldenSummary{ServiceName: res.Settings.ServiceName, Tracing: res.Settings.Tracing, ConfigMap: res.ConfigMap.Name}
	return toYAML(t, sum, res.Pod)
}

// tracingCluster is the envoy-tracing-cluster of a ConfigMap's bootstrap, or nil.
func tracingCluster(t *testing.T, cm *corev1.ConfigMap) *clusterv3.Cluster {
	t.Helper()
	b, err := bootstrap.Parse([]byte(cm.Data[bootstrap.BootstrapKey]))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := bootstrap.Validate(b); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == bootstrap.TracingClusterName {
			return c
		}
	}
	return nil
}

// collector is the address and port of the tracing cluster's one endpoint.
func collector(c *clusterv3.Cluster) (string, uint32) {
	sa := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	return sa.GetAddress(), sa.GetPortValue()
}

func TestMutateGoldenDemo(t *testing.T) {
	deployments := demoDeployments(t)
	tests := map[string]struct {
		deployment  string
		mesh        *v1alpha2.TracingSpec
		wantService string
		wantTracing bool
	}{
		"bookbuyer.tracing-on":     {"bookbuyer", meshOn, "bookbuyer", true},
		"bookstore-v1.tracing-on":  {"bookstore-v1", meshOn, "bookstore-v1", true},
		"bookstore-v2.tracing-on":  {"bookstore-v2", meshOn, "bookstore-v2", true},
		"bookwarehouse.tracing-on": {"bookwarehouse", meshOn, "bookwarehouse", true},
		"bookbuyer.tracing-off":    {"bookbuyer", nil, "bookbuyer", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := deployments[tc.deployment]
			pod := podOf(d)
			res, err := inject.Mutate(pod, demoNamespace(d.Namespace, nil), goldenEnv(tc.mesh))
			if err != nil {
				t.Fatalf("Mutate: %v", err)
			}
			if res.Skipped {
				t.Fatalf("skipped: %s", res.Reason)
			}
			if res.Settings.ServiceName != tc.wantService {
				t.Errorf("service name = %q, want %q", res.Settings.ServiceName, tc.wantService)
			}
			if res.ConfigMap.Namespace != d.Namespace || res.ConfigMap.Name != bootstrap.ConfigMapName(tc.wantService, res.Bootstrap.Hash) {
				t.Errorf("ConfigMap %s/%s", res.ConfigMap.Namespace, res.ConfigMap.Name)
			}
			c := tracingCluster(t, res.ConfigMap)
			if (c != nil) != tc.wantTracing {
				t.Fatalf("tracing cluster present = %v, want %v", c != nil, tc.wantTracing)
			}
			if c != nil {
				if addr, port := collector(c); addr != "jaeger.osm-system.svc.cluster.local" || port != 9411 {
					t.Errorf("collector = %s:%d", addr, port)
				}
			}
			compareGolden(t, filepath.Join("testdata", "pods", name+".yaml"), mutationGolden(t, res))
		})
	}
}

func TestMutateGoldenOverride(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "bookstore-v1-override.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ns corev1.Namespace
	var d appsv1.Deployment
	docs := splitDocs(t, data)
	if err := yaml.UnmarshalStrict(docs[0], &ns); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(docs[1], &d); err != nil {
		t.Fatal(err)
	}
	meshOff := &v1alpha2.TracingSpec{Enable: new(false), Sampling: new(50.0)}
	res, err := inject.Mutate(podOf(&d), inject.Namespace{Name: ns.Name, Labels: ns.Labels, Annotations: ns.Annotations}, goldenEnv(meshOff))
	if err != nil {
		t.Fatalf("Mutate: %v", err)
	}
	want := bootstrap.Settings{ServiceName: "bookstore", Workload: bootstrap.Workload{Kind: bootstrap.KindDeployment, Name: "bookstore-v1"}, Tracing: bootstrap.Tracing{
		Protocol: bootstrap.ProtocolZipkin,                         // the default
		Enable:   true,                                             // pod, over the MeshConfig's false
		Address:  "otel-collector.observability.svc.cluster.local", // pod
		Port:     9412,                                             // namespace, over the default
		Endpoint: "/zipkin/api/v2/spans",                           // pod
		Sampling: 12.5,                                             // pod, over the namespace's 10 and the MeshConfig's 50
		// The default: neither the MeshConfig nor an annotation sets it.
		Propagation: bootstrap.PropagationB3W3C,
	}}
	if diff := cmp.Diff(want, res.Settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	c := tracingCluster(t, res.ConfigMap)
	if c == nil {
		t.Fatal("no tracing cluster")
	}
	if addr, port := collector(c); addr != want.Tracing.Address || port != want.Tracing.Port {
		t.Errorf("collector = %s:%d", addr, port)
	}
	compareGolden(t, filepath.Join("testdata", "pods", "bookstore-v1.overridden.yaml"), mutationGolden(t, res))
}

func TestMutateSkipsWithoutChangingThePod(t *testing.T) {
	pod := appPod("shop", annotated(bootstrap.InjectionAnnotation, "disabled"))
	res, err := inject.Mutate(pod, enabledNS("shop"), inject.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Skipped || res.Pod != pod || res.ConfigMap != nil || !strings.Contains(res.Reason, "opts out") {
		t.Errorf("Mutate = %+v", res)
	}
}

func TestMutateOfAnInjectedPodIsANoOp(t *testing.T) {
	first, err := inject.Mutate(appPod("shop"), enabledNS("shop"), goldenEnv(meshOn))
	if err != nil {
		t.Fatal(err)
	}
	again, err := inject.Mutate(first.Pod, enabledNS("shop"), goldenEnv(meshOn))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped || again.Reason != inject.ReasonAlreadyInjected || !equality.Semantic.DeepEqual(again.Pod, first.Pod) {
		t.Errorf("reinvocation = %+v", again)
	}
}

func TestMutateNeverModifiesItsInput(t *testing.T) {
	pod := podOf(demoDeployments(t)["bookbuyer"])
	before := pod.DeepCopy()
	ns := demoNamespace("bookbuyer", map[string]string{bootstrap.AnnotationSampling: "5"})
	if _, err := inject.Mutate(pod, ns, goldenEnv(meshOn)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, pod); diff != "" {
		t.Errorf("Mutate modified the pod:\n%s", diff)
	}
}

func TestMutateErrors(t *testing.T) {
	tests := map[string]struct {
		pod  *corev1.Pod
		ns   inject.Namespace
		env  inject.Env
		want []string
	}{
		"a bad injection annotation": {
			pod:  appPod("shop", annotated(bootstrap.InjectionAnnotation, "perhaps")),
			ns:   enabledNS("shop"),
			want: []string{`pod annotation openservicemesh.io/sidecar-injection: invalid value "perhaps"`},
		},
		"bad tracing annotations on the pod and the namespace, all reported": {
			pod: appPod("shop", annotated(bootstrap.AnnotationPort, "99999"), annotated(bootstrap.AnnotationPrefix+"addr", "x")),
			ns:  inject.Namespace{Name: "shop", Labels: enabledNS("").Labels, Annotations: map[string]string{bootstrap.AnnotationSampling: "101"}},
			want: []string{
				`namespace "shop" annotation tracing.openservicemesh.io/sampling: invalid value "101": must be a number from 0 to 100`,
				`pod annotation tracing.openservicemesh.io/port: invalid value "99999": must be an integer from 1 to 65535`,
				`pod annotation tracing.openservicemesh.io/addr: unknown tracing annotation; did you mean tracing.openservicemesh.io/address?`,
			},
		},
		"a bad server-first port list": {
			pod:  appPod("shop", annotated(bootstrap.AnnotationServerFirstPorts, "21,ftp")),
			ns:   enabledNS("shop"),
			want: []string{`pod annotation openservicemesh.io/server-first-ports: invalid value "21,ftp": must be a comma-separated list of ports`},
		},
		"a bad MeshConfig": {
			pod:  appPod("shop"),
			ns:   enabledNS("shop"),
			env:  inject.Env{Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Endpoint: "spans"}}},
			want: []string{`MeshConfig spec.observability.tracing.endpoint: invalid value "spans"`},
		},
		"a bad log level": {
			pod:  appPod("shop"),
			ns:   enabledNS("shop"),
			env:  inject.Env{Proxy: inject.ProxyConfig{LogLevel: "loud"}},
			want: []string{`proxy log level "loud"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := inject.Mutate(tc.pod, tc.ns, tc.env)
			if err == nil {
				t.Fatalf("Mutate succeeded: %+v", res)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("errors:\n%v\nwant %d", err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestMutateUsesDefaultsForAnEmptyEnv(t *testing.T) {
	res, err := inject.Mutate(appPod("shop", annotated(bootstrap.AnnotationEnable, "true")), enabledNS("shop"), inject.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Settings.Tracing != func() bootstrap.Tracing { d := bootstrap.Defaults("osm-system"); d.Enable = true; return d }() {
		t.Errorf("settings = %+v", res.Settings)
	}
	if inject.Sidecar(&res.Pod.Spec).Image != inject.DefaultEnvoyImage {
		t.Errorf("envoy image = %q", inject.Sidecar(&res.Pod.Spec).Image)
	}
}

// TestMutateServerFirstPorts: the namespace's and the pod's server-first ports reach the
// bootstrap the pod mounts (the HTTP inspector skips them), added to the defaults.
func TestMutateServerFirstPorts(t *testing.T) {
	ns := enabledNS("shop")
	ns.Annotations = map[string]string{bootstrap.AnnotationServerFirstPorts: "23"}
	res, err := inject.Mutate(appPod("shop", annotated(bootstrap.AnnotationServerFirstPorts, "110, 3307")), ns, inject.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Settings.ServerFirstPorts; got != "23,3307" {
		t.Errorf("ServerFirstPorts = %q, want 23,3307 (110 is a default)", got)
	}
	plain, err := inject.Mutate(appPod("shop"), enabledNS("shop"), inject.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bootstrap.Hash == plain.Bootstrap.Hash {
		t.Errorf("server-first ports did not change the bootstrap (hash %s)", res.Bootstrap.Hash)
	}
	y := res.ConfigMap.Data[bootstrap.BootstrapKey]
	// 21-23 and 3306-3307 are runs, one range each (end exclusive).
	for _, want := range []string{"start: 21\n", "end: 24\n", "start: 110\n", "start: 3306\n", "end: 3308\n"} {
		if !strings.Contains(y, want) {
			t.Errorf("the bootstrap has no port range %q:\n%s", want, y)
		}
	}
}

// observability wraps a tracing spec as the MeshConfig's spec.observability (nil stays nil).
func observability(t *v1alpha2.TracingSpec) *v1alpha2.ObservabilitySpec {
	if t == nil {
		return nil
	}
	return &v1alpha2.ObservabilitySpec{Tracing: *t}
}
