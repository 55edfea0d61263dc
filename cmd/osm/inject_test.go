package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

// runOSM runs osm in-process with args and stdin; it returns the exit code, stdout, stderr.
func runOSM(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// bootstrapPlaceholder stands for a ConfigMap's bootstrap YAML in the golden file.
const bootstrapPlaceholder = "<generated bootstrap>"

// normalized decodes osm inject's output and replaces the ConfigMaps' bootstrap YAML by a
// placeholder, after checking that each ConfigMap's hash label and name carry the Hash of that
// YAML. The hashes stay in: the bootstraps' bytes are pinned by bootstrap's golden files, and
// a change of them, which renames every ConfigMap and relabels every pod, must fail here too.
func normalized(t *testing.T, out string) []any {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
	var vals []any
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(d, &v); err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, d)
		}
		if v == nil {
			continue
		}
		if v["kind"] == "ConfigMap" {
			meta := v["metadata"].(map[string]any)
			if labels, ok := meta["labels"].(map[string]any); ok {
				if label, ok := labels[bootstrap.BootstrapHashKey].(string); ok {
					data := v["data"].(map[string]any)
					y, _ := data[bootstrap.BootstrapKey].(string)
					// The golden file holds the placeholder already.
					if h := bootstrap.Hash([]byte(y)); y != bootstrapPlaceholder && (label != h || !strings.HasSuffix(meta["name"].(string), "-"+h)) {
						t.Errorf("ConfigMap %v (hash label %s) does not carry the hash %s of its bootstrap", meta["name"], label, h)
					}
					data[bootstrap.BootstrapKey] = bootstrapPlaceholder
				}
			}
		}
		vals = append(vals, any(v))
	}
	return vals
}

func compareGolden(t *testing.T, path, out string) {
	t.Helper()
	got := normalized(t, out)
	if *update {
		var docs []string
		for _, v := range got {
			b, err := yaml.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if diff := cmp.Diff(normalized(t, string(want)), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

// meshConfigFile writes a MeshConfig with the guide's tracing settings.
func meshConfigFile(t *testing.T, tracing string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mesh.yaml")
	data := "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata:\n  name: osm-mesh-config\n  namespace: osm-system\nspec:\n  observability:\n    tracing: " + tracing + "\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const guideTracing = `{enable: true, address: jaeger.osm-system.svc.cluster.local, port: 9411, endpoint: /api/v2/spans}`

func TestInjectDemoGolden(t *testing.T) {
	code, out, errOut := runOSM(t, "", "inject", "-f", "../../manifests/demo/", "--mesh-config", meshConfigFile(t, guideTracing))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Deployment bookbuyer/bookbuyer injected",
		"Deployment bookstore/bookstore-v1 injected",
		"Deployment bookstore/bookstore-v2 injected",
		"Deployment bookwarehouse/bookwarehouse injected",
	} {
		if !strings.Contains(errOut, want+"\n") {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "address: jaeger.osm-system.svc.cluster.local") {
		t.Error("the bootstraps do not send spans to the guide's Jaeger")
	}
	compareGolden(t, filepath.Join("testdata", "inject-demo.yaml"), out)
}

func TestInjectReadsStdin(t *testing.T) {
	data, err := os.ReadFile("../../manifests/demo/bookbuyer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runOSM(t, string(data), "inject", "-f", "-", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("--quiet printed %q", errOut)
	}
	if !strings.Contains(out, "name: envoy\n") || !strings.Contains(out, "kind: ConfigMap") {
		t.Errorf("stdin was not injected:\n%s", out)
	}
	if strings.Contains(out, "envoy-tracing-cluster") {
		t.Error("tracing is on without a MeshConfig")
	}
}

func TestInjectNamespaceAnnotationFlag(t *testing.T) {
	code, out, errOut := runOSM(t, "", "inject", "-f", "../../manifests/demo/bookbuyer.yaml",
		"--namespace-annotation", "tracing.openservicemesh.io/enable=true",
		"--namespace-annotation", "tracing.openservicemesh.io/address=10.1.2.3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `address: "10.1.2.3"`) {
		t.Errorf("the namespace annotations did not apply:\n%s", out)
	}
}

func TestInjectErrors(t *testing.T) {
	badPort := strings.Replace(mustRead(t, "../../manifests/demo/bookstore.yaml"),
		"      labels:\n        app: bookstore\n        version: v1\n",
		"      labels:\n        app: bookstore\n        version: v1\n      annotations:\n        tracing.openservicemesh.io/port: \"99999\"\n", 1)
	tests := map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"a bad annotation names the object, the annotation, the value and the accepted form": {
			stdin: badPort, args: []string{"inject", "-f", "-"},
			want: `Error: Deployment bookstore/bookstore-v1: pod annotation tracing.openservicemesh.io/port: invalid value "99999": must be an integer from 1 to 65535` + "\n",
		},
		"no input": {
			args: []string{"inject"}, want: `required flag(s) "filename" not set`,
		},
		"a missing file": {
			args: []string{"inject", "-f", "does-not-exist.yaml"}, want: "does-not-exist.yaml",
		},
		"a bad MeshConfig": {
			args: []string{"inject", "-f", "-", "--mesh-config", meshConfigFile(t, "{port: 0}")},
			want: `MeshConfig spec.observability.tracing.port: invalid value "0"`,
		},
		"a bad namespace annotation flag": {
			args: []string{"inject", "-f", "-", "--namespace-annotation", "novalue"},
			want: `--namespace-annotation: "novalue": want KEY=VALUE`,
		},
		"a bad log level": {
			args: []string{"inject", "-f", "-", "--envoy-log-level", "loud"},
			want: `proxy log level "loud"`,
		},
		"an argument": {
			args: []string{"inject", "file.yaml"}, want: `unknown command "file.yaml"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runOSM(t, tc.stdin, tc.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if out != "" {
				t.Errorf("stdout on error:\n%s", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.want)
			}
			if strings.Contains(errOut, "Usage:") {
				t.Errorf("stderr holds the usage:\n%s", errOut)
			}
		})
	}
}

func TestInjectHelpDocumentsTheOptIn(t *testing.T) {
	code, out, _ := runOSM(t, "", "inject", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"openservicemesh.io/sidecar-injection=enabled is not required", "sidecar-injection: disabled", "--mesh-config", "--namespace-annotation"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
