package inject_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// demoSources opens the demo manifests as Manifests reads them.
func demoSources(t *testing.T) []inject.ManifestSource {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(demoDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var out []inject.ManifestSource
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inject.ManifestSource{Name: f, Reader: bytes.NewReader(data)})
	}
	return out
}

// manifestOpts are the options of osm inject with the guide's MeshConfig.
func manifestOpts() inject.ManifestOptions {
	return inject.ManifestOptions{Env: goldenEnv(meshOn)}
}

// injectString runs Manifest on a string.
func injectString(t *testing.T, in string, opts inject.ManifestOptions) (string, []inject.ObjectReport, error) {
	t.Helper()
	out, reports, err := inject.Manifest(strings.NewReader(in), opts)
	return string(out), reports, err
}

// objectsOf decodes an output stream into its objects.
func objectsOf(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, v := range yamlValues(t, []byte(out)) {
		if v == nil {
			continue // a document of comments
		}
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("not an object: %v", v)
		}
		objs = append(objs, m)
	}
	return objs
}

// normalizeManifestOutput replaces the bootstrap YAML of an output stream's ConfigMaps by a
// placeholder, after checking that each ConfigMap's name and hash label carry the Hash of that
// YAML. The hashes stay in: the bootstraps' bytes are pinned by bootstrap's golden files, and
// a change of them, which renames every ConfigMap and relabels every pod, must fail here too.
func normalizeManifestOutput(t *testing.T, out []byte) []byte {
	t.Helper()
	var docs []string
	for _, v := range yamlValues(t, out) {
		if v == nil {
			continue // a document of comments
		}
		obj, _ := v.(map[string]any)
		if obj["kind"] == "ConfigMap" {
			meta := obj["metadata"].(map[string]any)
			data := obj["data"].(map[string]any)
			if y, ok := data[bootstrap.BootstrapKey].(string); ok {
				h := bootstrap.Hash([]byte(y))
				if label := meta["labels"].(map[string]any)[bootstrap.BootstrapHashKey]; label != h || !strings.HasSuffix(meta["name"].(string), "-"+h) {
					t.Errorf("ConfigMap %v (hash label %v) does not carry the hash %s of its bootstrap", meta["name"], label, h)
				}
				data[bootstrap.BootstrapKey] = "<generated bootstrap>"
			}
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return []byte(strings.Join(docs, "---\n"))
}

func TestInjectManifestGoldenDemo(t *testing.T) {
	out, reports, err := inject.Manifests(demoSources(t), manifestOpts())
	if err != nil {
		t.Fatalf("Manifests: %v", err)
	}
	var got []string
	for _, r := range reports {
		got = append(got, r.String())
	}
	want := []string{
		"Deployment bookbuyer/bookbuyer injected",
		"Deployment bookstore/bookstore-v1 injected",
		"Deployment bookstore/bookstore-v2 injected",
		"Deployment bookwarehouse/bookwarehouse injected",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
	services := map[string]string{}
	for _, obj := range objectsOf(t, string(out)) {
		if obj["kind"] != "ConfigMap" {
			continue
		}
		meta := obj["metadata"].(map[string]any)
		data := obj["data"].(map[string]any)[bootstrap.BootstrapKey].(string)
		b, err := bootstrap.Parse([]byte(data))
		if err != nil {
			t.Fatalf("ConfigMap %s: %v", meta["name"], err)
		}
		if err := bootstrap.Validate(b); err != nil {
			t.Fatalf("ConfigMap %s: %v", meta["name"], err)
		}
		if h := bootstrap.Hash([]byte(data)); !strings.HasSuffix(meta["name"].(string), "-"+h) {
			t.Errorf("ConfigMap %s does not carry the hash %s of its bootstrap", meta["name"], h)
		}
		services[meta["namespace"].(string)+"/"+b.GetNode().GetCluster()] = meta["name"].(string)
	}
	for _, s := range []string{"bookbuyer/bookbuyer", "bookstore/bookstore-v1", "bookstore/bookstore-v2", "bookwarehouse/bookwarehouse"} {
		if _, ok := services[s]; !ok {
			t.Errorf("no ConfigMap for service %s; got %v", s, services)
		}
	}
	compareGolden(t, filepath.Join("testdata", "manifest", "demo.tracing-on.yaml"), normalizeManifestOutput(t, out))
}

func TestInjectManifestPassesOtherObjectsThroughByteForByte(t *testing.T) {
	for _, src := range demoSources(t) {
		raw, err := os.ReadFile(src.Name)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := inject.Manifest(bytes.NewReader(raw), manifestOpts())
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitDocs(t, raw) {
			if bytes.Contains(doc, []byte("kind: Deployment")) {
				continue
			}
			if !bytes.Contains(out, bytes.TrimRight(doc, "\n")) {
				t.Errorf("%s: the output does not hold this document as read:\n%s", src.Name, doc)
			}
		}
	}
}

const optedOut = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
  namespace: shop
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata:
      labels: {app: legacy}
      annotations:
        openservicemesh.io/sidecar-injection: disabled
    spec:
      containers: [{name: legacy, image: "legacy:1"}]
`

func TestInjectManifestLeavesSkippedObjectsAsRead(t *testing.T) {
	kubeSystem := strings.ReplaceAll(strings.ReplaceAll(optedOut, "namespace: shop", "namespace: kube-system"), "disabled", "enabled")
	hostNet := strings.ReplaceAll(optedOut, "disabled", "enabled") + "      hostNetwork: true\n"
	injected := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(optedOut, "disabled", "enabled"),
		"containers: [{name: legacy", "containers: [{name: envoy"), "labels: {app: legacy}\n      annotations", "labels: {app: legacy, tracing.openservicemesh.io/bootstrap-hash: x}\n      annotations")
	tests := map[string]struct {
		in, reason string
	}{
		"an opted-out template":     {optedOut, "opts out"},
		"a template in kube-system": {kubeSystem, "kube-system are never injected"},
		"a hostNetwork template":    {hostNet, inject.ReasonHostNetwork},
		"an already injected one":   {injected, inject.ReasonAlreadyInjected},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, reports, err := injectString(t, tc.in, manifestOpts())
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.in {
				t.Errorf("output differs from the input:\n%s", out)
			}
			if len(reports) != 1 || reports[0].Injected || !strings.Contains(reports[0].Reason, tc.reason) {
				t.Errorf("reports = %+v", reports)
			}
		})
	}
}

const workloads = `# A header comment is kept.
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: db, namespace: data}
  spec:
    serviceName: db
    selector: {matchLabels: {app: mysql}}
    template:
      metadata: {labels: {app: mysql}}
      spec:
        containers: [{name: mysql, image: "mysql:8", resources: {requests: {cpu: 1}}}]
        futureField: kept
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: data}
  data: {a: b}
---
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "agent:1"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: jobs}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "report:1"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: jobs}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "migrate:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: jobs, labels: {app: debug}}
spec:
  containers: [{name: debug, image: "busybox:1"}]
status: {phase: Pending}
`

func TestInjectManifestWorkloadKinds(t *testing.T) {
	out, reports, err := injectString(t, workloads, inject.ManifestOptions{Env: goldenEnv(meshOn), DefaultNamespace: "agents"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reports {
		got = append(got, r.String())
	}
	want := []string{
		"StatefulSet data/db injected",
		"DaemonSet agents/agent injected",
		"CronJob jobs/report injected",
		"Job jobs/migrate injected",
		"Pod jobs/debug injected",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(out, "# A header comment is kept.\n---\n") {
		t.Errorf("the header comment is lost:\n%s", out)
	}
	if !strings.Contains(out, "futureField: kept") {
		t.Error("a field unknown to the API types was dropped")
	}
	if !strings.Contains(out, "cpu: 1\n") {
		t.Error("a quantity was rewritten")
	}
	objs := objectsOf(t, out)
	var cms []string
	for _, o := range objs {
		if o["kind"] != "ConfigMap" {
			continue
		}
		meta := o["metadata"].(map[string]any)
		if meta["name"] == "settings" {
			continue
		}
		ns, _ := meta["namespace"].(string)
		hash := meta["labels"].(map[string]any)[bootstrap.BootstrapHashKey].(string)
		cms = append(cms, ns+"/"+strings.TrimSuffix(meta["name"].(string), "-"+hash))
	}
	wantCMs := []string{"data/envoy-bootstrap-db", "/envoy-bootstrap-agent", "jobs/envoy-bootstrap-report", "jobs/envoy-bootstrap-migrate", "jobs/envoy-bootstrap-debug"}
	if diff := cmp.Diff(wantCMs, cms); diff != "" {
		t.Errorf("ConfigMaps (-want +got):\n%s", diff)
	}
	compareGolden(t, filepath.Join("testdata", "manifest", "workloads.yaml"), normalizeManifestOutput(t, []byte(out)))
}

func TestInjectManifestSharesConfigMaps(t *testing.T) {
	in := `apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: "web:1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: "web:1"}]}
`
	out, _, err := injectString(t, in, manifestOpts())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "kind: ConfigMap"); n != 1 {
		t.Errorf("%d ConfigMaps for two pods of one service, want 1:\n%s", n, out)
	}
}

func TestInjectManifestNamespaceAnnotations(t *testing.T) {
	in := `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations:
    tracing.openservicemesh.io/sampling: "5"
    tracing.openservicemesh.io/port: "9999"
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: "web:1"}]}
`
	opts := manifestOpts()
	opts.NamespaceAnnotations = map[string]string{bootstrap.AnnotationPort: "9412"}
	out, _, err := injectString(t, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objectsOf(t, out) {
		if o["kind"] != "ConfigMap" {
			continue
		}
		b, err := bootstrap.Parse([]byte(o["data"].(map[string]any)[bootstrap.BootstrapKey].(string)))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.GetStaticResources().GetClusters() {
			if c.GetName() == bootstrap.TracingClusterName {
				if _, port := collector(c); port != 9412 {
					t.Errorf("port = %d, want the flag's 9412 over the Namespace object's 9999", port)
				}
			}
		}
		if !strings.Contains(o["data"].(map[string]any)[bootstrap.BootstrapKey].(string), "value: 5") {
			t.Errorf("the Namespace object's sampling 5 is not in the bootstrap")
		}
	}
}

// A Namespace object is honoured wherever it sits in the input: inside a List too.
func TestInjectManifestNamespaceInAList(t *testing.T) {
	in := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
    annotations: {tracing.openservicemesh.io/sampling: "5"}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: shop}
  spec: {containers: [{name: web, image: "web:1"}]}
`
	out, _, err := injectString(t, in, manifestOpts())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objectsOf(t, out) {
		if o["kind"] == "ConfigMap" {
			found = true
			if !strings.Contains(o["data"].(map[string]any)[bootstrap.BootstrapKey].(string), "value: 5") {
				t.Errorf("the sampling 5 of the Namespace inside the List is not in the bootstrap")
			}
		}
	}
	if !found {
		t.Fatalf("no ConfigMap in the output:\n%s", out)
	}
}

func TestInjectManifestErrors(t *testing.T) {
	badPort := strings.ReplaceAll(optedOut, "openservicemesh.io/sidecar-injection: disabled", `tracing.openservicemesh.io/port: "99999"`)
	tests := map[string]struct {
		in   string
		want []string
	}{
		"a bad annotation names the object": {
			in:   badPort,
			want: []string{`Deployment shop/legacy: pod annotation tracing.openservicemesh.io/port: invalid value "99999": must be an integer from 1 to 65535`},
		},
		"every bad object is reported": {
			in: badPort + "---\n" + strings.ReplaceAll(strings.ReplaceAll(badPort, "legacy", "other"), "99999", "0"),
			want: []string{
				`Deployment shop/legacy: pod annotation tracing.openservicemesh.io/port: invalid value "99999"`,
				`Deployment shop/other: pod annotation tracing.openservicemesh.io/port: invalid value "0"`,
			},
		},
		"a bad injection annotation": {
			in:   strings.ReplaceAll(optedOut, "disabled", "maybe"),
			want: []string{`Deployment shop/legacy: pod annotation openservicemesh.io/sidecar-injection: invalid value "maybe"`},
		},
		"a bad item of a List": {
			in:   "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSuffix(badPort, "\n"), "\n", "\n  ") + "\n",
			want: []string{`item 0: Deployment shop/legacy: pod annotation tracing.openservicemesh.io/port`},
		},
		"malformed YAML names the document": {
			in:   "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: [unclosed\n",
			want: []string{"document 2: "},
		},
		"a document that is not an object": {
			in:   "just a string\n",
			want: []string{"document 1: not a Kubernetes object: the document is not a mapping"},
		},
		"a document without a kind": {
			in:   "metadata: {name: x}\n",
			want: []string{"document 1: not a Kubernetes object: it has no kind"},
		},
		"a Deployment without a template": {
			in:   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: shop}\nspec: {}\n",
			want: []string{"Deployment shop/x: no pod template at spec.template"},
		},
		"a template whose containers are not a list": {
			in:   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: shop}\nspec: {template: {spec: {containers: 3}}}\n",
			want: []string{"Deployment shop/x: spec.template.spec.containers: expected a list, got number 3"},
		},
		"containers given as a string": {
			in:   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: shop}\nspec: {template: {spec: {containers: \"app\"}}}\n",
			want: []string{`Deployment shop/x: spec.template.spec.containers: expected a list, got string "app"`},
		},
		"an unquoted number as a pod annotation": {
			in: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    openservicemesh.io/proxy-concurrency: 4\n" +
				"spec: {containers: [{name: web, image: \"web:1\"}]}\n",
			want: []string{`Pod shop/web: metadata.annotations.openservicemesh.io/proxy-concurrency: expected string, got number 4 (quote it: "4")`},
		},
		"a boolean as a template annotation": {
			in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: shop}\n" +
				"spec: {template: {metadata: {annotations: {tracing.openservicemesh.io/enable: true}}, spec: {containers: [{name: a}]}}}\n",
			want: []string{`Deployment shop/x: spec.template.metadata.annotations.tracing.openservicemesh.io/enable: expected string, got boolean true (quote it: "true")`},
		},
		"a list index in the path": {
			in: "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n" +
				"spec: {containers: [{name: web, ports: [{containerPort: 80}, {containerPort: \"http\"}]}]}\n",
			want: []string{`Pod shop/web: spec.containers[0].ports[1].containerPort: expected integer, got string "http"`},
		},
		"an unquoted number as a Namespace annotation": {
			in:   "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, annotations: {tracing.openservicemesh.io/sampling: 5}}\n",
			want: []string{`Namespace shop: metadata.annotations.tracing.openservicemesh.io/sampling: expected string, got number 5 (quote it: "5")`},
		},
		"a bad Namespace inside a List": {
			in: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n" +
				"- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {team: 7}}}\n",
			want: []string{`item 1: Namespace shop: metadata.labels.team: expected string, got number 7 (quote it: "7")`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, _, err := injectString(t, tc.in, manifestOpts())
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			if out != "" {
				t.Errorf("output on error:\n%s", out)
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

func TestInjectManifestNamesTheFileOfAnError(t *testing.T) {
	src := inject.ManifestSource{Name: "app.yaml", Reader: strings.NewReader(strings.ReplaceAll(optedOut, "disabled", "maybe"))}
	_, _, err := inject.Manifests([]inject.ManifestSource{src}, manifestOpts())
	if err == nil || !strings.HasPrefix(err.Error(), "app.yaml: Deployment shop/legacy: ") {
		t.Fatalf("error = %v", err)
	}
}

func TestInjectManifestIsIdempotent(t *testing.T) {
	once, _, err := inject.Manifests(demoSources(t), manifestOpts())
	if err != nil {
		t.Fatal(err)
	}
	twice, reports, err := inject.Manifest(bytes.NewReader(once), manifestOpts())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Injected || r.Reason != inject.ReasonAlreadyInjected {
			t.Errorf("report on the second pass: %s", r)
		}
	}
	if !bytes.Equal(once, twice) {
		t.Errorf("a second osm inject changed the output:\n%s", cmp.Diff(string(once), string(twice)))
	}
}

func TestParseMeshConfig(t *testing.T) {
	defaults := bootstrap.Defaults("osm-system")
	good := "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata: {name: osm-mesh-config, namespace: osm-system}\nspec:\n  observability:\n    tracing: {enable: true, port: 9412}\n"
	spec, err := inject.ParseMeshConfig([]byte(good), defaults)
	if err != nil || !*spec.Tracing.Enable || *spec.Tracing.Port != 9412 {
		t.Fatalf("ParseMeshConfig = %+v, %v", spec, err)
	}
	for name, tc := range map[string]struct{ in, want string }{
		"a misspelt field":      {strings.ReplaceAll(good, "port:", "prot:"), `unknown field "spec.observability.tracing.prot"`},
		"a key in other case":   {strings.ReplaceAll(good, "enable:", "ENABLE:"), `spec.observability.tracing.ENABLE`},
		"another kind":          {strings.ReplaceAll(good, "kind: MeshConfig", "kind: ConfigMap"), `kind "ConfigMap"`},
		"a second document":     {good + "---\n" + good, "document"},
		"a number for a string": {strings.ReplaceAll(good, "port: 9412", "address: 1.10"), "spec.observability.tracing.address"},
		"a bad value":           {strings.ReplaceAll(good, "9412", "0"), `MeshConfig spec.observability.tracing.port: invalid value "0"`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := inject.ParseMeshConfig([]byte(tc.in), defaults); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestInjectManifestChecksNamespacesWithoutPods: a Namespace of the input is validated as on
// a pod even when no pod of the input lives in it, once; one with pods is validated with
// them and its error is not repeated.
func TestInjectManifestChecksNamespacesWithoutPods(t *testing.T) {
	in := `apiVersion: v1
kind: Namespace
metadata:
  name: idle
  annotations: {tracing.openservicemesh.io/sampling: "150", openservicemesh.io/proxy-cpu-limit: "lots"}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  annotations: {tracing.openservicemesh.io/port: "0"}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: "web:1"}]}
`
	_, _, err := injectString(t, in, manifestOpts())
	if err == nil {
		t.Fatal("osm inject accepted namespaces with malformed annotations")
	}
	msg := err.Error()
	for _, want := range []string{
		`Namespace idle: `, `namespace "idle" annotation tracing.openservicemesh.io/sampling: invalid value "150"`,
		`namespace "idle" annotation openservicemesh.io/proxy-cpu-limit: invalid value "lots"`,
		`namespace "shop" annotation tracing.openservicemesh.io/port: invalid value "0"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, `namespace "shop" annotation tracing.openservicemesh.io/port`); n != 1 {
		t.Errorf("the shop namespace's error is reported %d times, want once:\n%s", n, msg)
	}
}
