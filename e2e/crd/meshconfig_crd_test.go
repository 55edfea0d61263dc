// Package crd checks the MeshConfig CustomResourceDefinition against a real kube-apiserver:
// the API server itself must refuse bad tracing settings with a message that names the field,
// and the user guide's kubectl commands must work as written.
package crd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

const (
	crdFile       = "manifests/crds/config.openservicemesh.io_meshconfigs.yaml"
	crdName       = "meshconfigs.config.openservicemesh.io"
	namespace     = "osm-system"
	meshConfig    = "osm-mesh-config"
	tracingPrefix = "spec.observability.tracing."
	testTimeout   = 2 * time.Minute
)

// env is one control plane with the CRD installed, shared by the subtests.
type env struct {
	cluster *framework.Cluster
	client  client.Client
}

func setUp(t *testing.T) *env {
	t.Helper()
	c := framework.Start(t, framework.Options{})
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Install the CRD the way users do, with the real kubectl.
	if _, _, err := c.Kubectl("apply", "-f", filepath.Join(root, crdFile)); err != nil {
		t.Fatalf("installing the CRD: %v", err)
	}
	if _, _, err := c.Kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/"+crdName); err != nil {
		t.Fatalf("waiting for the CRD: %v", err)
	}
	if _, _, err := c.Kubectl("create", "namespace", namespace); err != nil {
		t.Fatalf("creating namespace %s: %v", namespace, err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cl, err := c.ControllerClient(scheme)
	if err != nil {
		t.Fatal(err)
	}
	return &env{cluster: c, client: cl}
}

func meshConfigWith(name string, tr v1alpha2.TracingSpec) *v1alpha2.MeshConfig {
	return &v1alpha2.MeshConfig{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       v1alpha2.MeshConfigSpec{Observability: v1alpha2.ObservabilitySpec{Tracing: tr}},
	}
}

func TestMeshConfigCRD(t *testing.T) {
	e := setUp(t)

	t.Run("valid settings are accepted", func(t *testing.T) { e.validAccepted(t) })
	t.Run("bad settings are refused naming the field", func(t *testing.T) { e.badRefused(t) })
	t.Run("the user guide's kubectl commands", func(t *testing.T) { e.guideCommands(t) })
	t.Run("status is a subresource", func(t *testing.T) { e.statusSubresource(t) })
}

func (e *env) validAccepted(t *testing.T) {
	tests := map[string]v1alpha2.TracingSpec{
		"an empty spec (every field takes the injector's default)": {},
		"the guide's settings": {
			Enable: ptr.To(true), Address: "jaeger.osm-system.svc.cluster.local",
			Port: ptr.To[int32](9411), Endpoint: "/api/v2/spans",
		},
		"an IPv4 address":              {Address: "10.0.0.7"},
		"an IPv6 address":              {Address: "fd00::7"},
		"a single-label name":          {Address: "jaeger"},
		"the lowest port":              {Port: ptr.To[int32](1)},
		"the highest port":             {Port: ptr.To[int32](65535)},
		"sampling 0":                   {Sampling: ptr.To(0.0)},
		"sampling 100":                 {Sampling: ptr.To(100.0)},
		"fractional sampling":          {Sampling: ptr.To(12.5)},
		"an endpoint with a query":     {Endpoint: "/api/v2/spans?x=1"},
		"the root path as an endpoint": {Endpoint: "/"},
		"propagation b3":               {Propagation: "b3"},
		"propagation b3+w3c":           {Propagation: "b3+w3c"},
		"a 63-character DNS label":     {Address: strings.Repeat("a", 63) + ".example.com"},
		"a literal tag and a header tag": {Tags: []v1alpha2.TracingTag{{Tag: "team", Literal: ptr.To("payments")},
			{Tag: "tenant", Header: ptr.To("x-tenant-id")}}},
		"a path tag length of 1024": {MaxPathTagLength: ptr.To[int32](1024)},
	}
	for name, tr := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			// A server-side dry run goes through the whole validation and stores nothing.
			err := e.client.Create(ctx, meshConfigWith("valid", tr), client.DryRunAll)
			if err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

func (e *env) badRefused(t *testing.T) {
	tests := map[string]struct {
		tracing v1alpha2.TracingSpec
		field   string
	}{
		"port 0":                               {v1alpha2.TracingSpec{Port: ptr.To[int32](0)}, "port"},
		"port 70000":                           {v1alpha2.TracingSpec{Port: ptr.To[int32](70000)}, "port"},
		"an endpoint without a slash":          {v1alpha2.TracingSpec{Endpoint: "api"}, "endpoint"},
		"an endpoint with a space":             {v1alpha2.TracingSpec{Endpoint: "/api/v2/my spans"}, "endpoint"},
		"an endpoint with a fragment":          {v1alpha2.TracingSpec{Endpoint: "/api/v2/spans#x"}, "endpoint"},
		"an endpoint not in ASCII":             {v1alpha2.TracingSpec{Endpoint: "/api/v2/spañs"}, "endpoint"},
		"an address with a space and !":        {v1alpha2.TracingSpec{Address: "bad host!"}, "address"},
		"an address in upper case":             {v1alpha2.TracingSpec{Address: "Jaeger.example.com"}, "address"},
		"an address ending with a dot":         {v1alpha2.TracingSpec{Address: "jaeger."}, "address"},
		"an IPv4-like bad address":             {v1alpha2.TracingSpec{Address: "300.1.2.3"}, "address"},
		"an IPv4-mapped IPv6 address":          {v1alpha2.TracingSpec{Address: "::ffff:10.0.0.7"}, "address"},
		"a URL as address":                     {v1alpha2.TracingSpec{Address: "http://jaeger:9411"}, "address"},
		"an address with a 64-character label": {v1alpha2.TracingSpec{Address: strings.Repeat("a", 64) + ".example.com"}, "address"},
		"an over-long address":                 {v1alpha2.TracingSpec{Address: strings.Repeat("a", 254)}, "address"},
		"sampling 101":                         {v1alpha2.TracingSpec{Sampling: ptr.To(101.0)}, "sampling"},
		"sampling -1":                          {v1alpha2.TracingSpec{Sampling: ptr.To(-1.0)}, "sampling"},
		"propagation w3c alone":                {v1alpha2.TracingSpec{Propagation: "w3c"}, "propagation"},
		"propagation in upper case":            {v1alpha2.TracingSpec{Propagation: "B3"}, "propagation"},
		"a tag with a literal and a header": {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{
			{Tag: "t", Literal: ptr.To("a"), Header: ptr.To("x-a")}}}, "tags"},
		"a tag with neither":         {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t"}}}, "tags"},
		"a header tag in upper case": {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Header: ptr.To("X-Tenant")}}}, "tags"},
		"a literal with a comma":     {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Literal: ptr.To("a,b")}}}, "tags"},
		"an empty literal":           {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Literal: ptr.To("")}}}, "tags[0].literal"},
		"a tag name with a space":    {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "my tag", Literal: ptr.To("a")}}}, "tags"},
		"a built-in tag":             {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "k8s.pod.name", Literal: ptr.To("a")}}}, "tags"},
		"a tag twice": {v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Literal: ptr.To("a")},
			{Tag: "t", Literal: ptr.To("b")}}}, "tags"},
		"a path tag length of 0": {v1alpha2.TracingSpec{MaxPathTagLength: ptr.To[int32](0)}, "maxPathTagLength"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			err := e.client.Create(ctx, meshConfigWith("bad", tc.tracing), client.DryRunAll)
			if err == nil {
				t.Fatalf("accepted %+v", tc.tracing)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("refused, but not as Invalid: %v", err)
			}
			if want := tracingPrefix + tc.field; !strings.Contains(err.Error(), want) {
				t.Errorf("the message does not name %s: %v", want, err)
			}
			t.Logf("message: %v", err)
		})
	}

	t.Run("a kubectl patch with a bad port", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
		defer cancel()
		if err := e.client.Create(ctx, meshConfigWith("patched", v1alpha2.TracingSpec{})); err != nil {
			t.Fatal(err)
		}
		_, stderr, err := e.cluster.Kubectl("patch", "meshconfig", "patched", "-n", namespace, "--type=merge",
			"-p", `{"spec":{"observability":{"tracing":{"port":0}}}}`)
		if err == nil {
			t.Fatalf("kubectl patch accepted port 0")
		}
		if !strings.Contains(stderr, tracingPrefix+"port") {
			t.Errorf("kubectl's error does not name the field: %s", stderr)
		}
	})
}

// guideCommands runs the user guide's commands through bash, exactly as written, with the
// real kubectl on PATH.
func (e *env) guideCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	// The MeshConfig as the chart creates it by default: no port (it follows the protocol).
	initial := meshConfigWith(meshConfig, v1alpha2.TracingSpec{
		Enable: ptr.To(false), Protocol: "zipkin", Address: "jaeger.osm-system.svc.cluster.local",
		Endpoint: "/api/v2/spans", Sampling: ptr.To(100.0), Propagation: "b3+w3c",
	})
	if err := e.client.Create(ctx, initial); err != nil {
		t.Fatal(err)
	}

	out := e.shell(ctx, t, `kubectl get meshconfig -n osm-system`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAME TRACING ADDRESS PORT ENDPOINT PROTOCOL AGE" {
		t.Errorf("kubectl get meshconfig columns = %q, want NAME TRACING ADDRESS PORT ENDPOINT PROTOCOL AGE", got)
	}

	// Step a) of the guide: enable tracing at runtime.
	out = e.shell(ctx, t, `kubectl patch meshconfig osm-mesh-config -n osm-system -p '{"spec":{"observability":{"tracing":{"enable":true,"address": "jaeger.osm-system.svc.cluster.local","port":9411,"endpoint":"/api/v2/spans"}}}}'  --type=merge`)
	if !strings.Contains(out, "meshconfig.config.openservicemesh.io/osm-mesh-config patched") {
		t.Errorf("kubectl patch said %q", out)
	}

	// The guide's check of the result.
	out = e.shell(ctx, t, `kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing}{"\n"}'`)
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("the jsonpath output does not end with the guide's newline: %q", out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the jsonpath output is not the tracing object: %v: %q", err, out)
	}
	want := map[string]any{
		"enable": true, "address": "jaeger.osm-system.svc.cluster.local", "port": 9411.0,
		"endpoint": "/api/v2/spans", "sampling": 100.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tracing.%s = %v, want %v (output %q)", k, got[k], v, out)
		}
	}

	// Troubleshooting step 1.
	if out := e.shell(ctx, t, `kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing.enable}{"\n"}'`); out != "true\n" {
		t.Errorf("tracing.enable printed %q, want \"true\\n\"", out)
	}

	// The printer columns show the patched settings.
	out = e.shell(ctx, t, `kubectl get meshconfig osm-mesh-config -n osm-system --no-headers`)
	if f := strings.Fields(out); len(f) != 7 || f[0] != meshConfig || f[1] != "true" ||
		f[2] != "jaeger.osm-system.svc.cluster.local" || f[3] != "9411" || f[4] != "/api/v2/spans" || f[5] != "zipkin" {
		t.Errorf("kubectl get meshconfig row = %q", out)
	}
}

func (e *env) statusSubresource(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	mc := meshConfigWith("with-status", v1alpha2.TracingSpec{Enable: ptr.To(true)})
	if err := e.client.Create(ctx, mc); err != nil {
		t.Fatal(err)
	}
	mc.Status.ObservedGeneration = mc.Generation
	mc.Status.Rebootstrap = &v1alpha2.RebootstrapStatus{Workloads: 3, Updated: 3}
	mc.Spec.Observability.Tracing.Enable = ptr.To(false) // ignored by the status endpoint
	if err := e.client.Status().Update(ctx, mc); err != nil {
		t.Fatalf("updating the status: %v", err)
	}
	var got v1alpha2.MeshConfig
	if err := e.client.Get(ctx, client.ObjectKeyFromObject(mc), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Rebootstrap == nil || got.Status.Rebootstrap.Updated != 3 {
		t.Errorf("status = %+v, want the update stored", got.Status)
	}
	if got.Spec.Observability.Tracing.Enable == nil || !*got.Spec.Observability.Tracing.Enable {
		t.Errorf("a status update changed the spec: %+v", got.Spec)
	}
}

// shell runs a command line with bash, kubectl on PATH and the cluster's kubeconfig, and
// returns its standard output. A failure fails the test.
func (e *env) shell(ctx context.Context, t *testing.T, line string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Dir(e.cluster.Binaries.Kubectl)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KUBECONFIG="+e.cluster.KubeconfigPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", line, err, stderr.String())
	}
	return string(out)
}
