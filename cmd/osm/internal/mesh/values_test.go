package mesh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/cli/values"
)

func TestValues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(file, []byte("osm:\n  tracing:\n    enable: false\n    port: 1234\n  deployJaeger: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := filepath.Join(dir, "later.yaml")
	if err := os.WriteFile(later, []byte("osm:\n  tracing:\n    port: 4321\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notAMap := filepath.Join(dir, "list.yaml")
	if err := os.WriteFile(notAMap, []byte("- a\n- b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	address := filepath.Join(dir, "address.txt")
	if err := os.WriteFile(address, []byte("10.0.0.7"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		files, sets, strings, fileSets []string
		want                           map[string]any
		err                            string
	}{
		"the guide's comma list sets two values": {
			sets: []string{"osm.deployJaeger=true,osm.tracing.enable=true"},
			want: map[string]any{"osm": map[string]any{"deployJaeger": true, "tracing": map[string]any{"enable": true}}},
		},
		"the guide's BYO command sets address, port and endpoint": {
			sets: []string{"osm.tracing.enable=true,osm.tracing.address=jaeger.tracing.svc.cluster.local,osm.tracing.port=9411,osm.tracing.endpoint=/api/v2/spans"},
			want: map[string]any{"osm": map[string]any{"tracing": map[string]any{
				"enable": true, "address": "jaeger.tracing.svc.cluster.local", "port": int64(9411), "endpoint": "/api/v2/spans",
			}}},
		},
		"a repeated --set wins over an earlier one": {
			sets: []string{"osm.tracing.port=1", "osm.tracing.port=2"},
			want: map[string]any{"osm": map[string]any{"tracing": map[string]any{"port": int64(2)}}},
		},
		"--set wins over a values file, which keeps its other keys": {
			files: []string{file},
			sets:  []string{"osm.tracing.enable=true"},
			want: map[string]any{"osm": map[string]any{"deployJaeger": true, "tracing": map[string]any{
				"enable": true, "port": float64(1234),
			}}},
		},
		"a later values file wins, keeping the earlier one's other keys": {
			files: []string{file, later},
			want: map[string]any{"osm": map[string]any{"deployJaeger": true, "tracing": map[string]any{
				"enable": false, "port": float64(4321),
			}}},
		},
		"--set-string keeps a value a string; it wins over --set": {
			sets:    []string{"osm.tracing.port=1"},
			strings: []string{"osm.tracing.port=9411,osm.meshName=true"},
			want:    map[string]any{"osm": map[string]any{"meshName": "true", "tracing": map[string]any{"port": "9411"}}},
		},
		"--set-file takes the file's content": {
			fileSets: []string{"osm.tracing.address=" + address},
			want:     map[string]any{"osm": map[string]any{"tracing": map[string]any{"address": "10.0.0.7"}}},
		},
		"a --set without a value is refused, naming it and the expected form": {
			sets: []string{"osm.deployJaeger=true", "osm.deployJaeger=true,osm.tracing.enable"},
			err:  `--set "osm.deployJaeger=true,osm.tracing.enable": key "enable" has no value (want key=value`,
		},
		"a --set-string without a value is named": {
			strings: []string{"osm.tracing.address"},
			err:     `--set-string "osm.tracing.address"`,
		},
		"a --set-file without a path is named": {
			fileSets: []string{"osm.tracing.address"},
			err:      `--set-file "osm.tracing.address"`,
		},
		"a missing values file is named": {
			files: []string{filepath.Join(dir, "nope.yaml")},
			err:   "nope.yaml",
		},
		"a missing --set-file file is named": {
			fileSets: []string{"osm.tracing.address=" + filepath.Join(dir, "nope.txt")},
			err:      "nope.txt",
		},
		"a values file that is not a map is named, with the accepted form": {
			files: []string{notAMap},
			err:   "list.yaml",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Values(values.Options{ValueFiles: tc.files, Values: tc.sets, StringValues: tc.strings, FileValues: tc.fileSets})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetPathAndLookup(t *testing.T) {
	vals := map[string]any{"osm": map[string]any{"tracing": map[string]any{"enable": true}}}
	setPath(vals, "mesh", "osm", "meshName")
	if v, ok := lookup(vals, "osm", "meshName"); !ok || v != "mesh" {
		t.Errorf("osm.meshName = %v, %t", v, ok)
	}
	if v, ok := lookup(vals, "osm", "tracing", "enable"); !ok || v != true {
		t.Errorf("osm.tracing.enable = %v, %t; setPath must keep siblings", v, ok)
	}
	if _, ok := lookup(vals, "osm", "tracing", "enable", "deeper"); ok {
		t.Error("lookup through a non-map succeeded")
	}
}

func TestValidateNames(t *testing.T) {
	tests := map[string]struct {
		ns, mesh string
		err      string
	}{
		"the defaults are valid":           {ns: "osm-system", mesh: "osm"},
		"an upper-case namespace":          {ns: "OSM", mesh: "osm", err: "--osm-namespace"},
		"a mesh name with a dot":           {ns: "osm-system", mesh: "my.mesh", err: "--mesh-name"},
		"a mesh name longer than 53 bytes": {ns: "osm-system", mesh: strings.Repeat("a", 54), err: "--mesh-name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := validateNames(tc.ns, tc.mesh)
			if (err != nil) != (tc.err != "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("validateNames(%q, %q) = %v, want error containing %q", tc.ns, tc.mesh, err, tc.err)
			}
		})
	}
}
