package bootstrap

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (go test ./bootstrap -run Golden -update)")

// TestGolden compares each demo bootstrap with testdata/<case>.yaml byte for byte: those
// bytes are hashed into the ConfigMap's name and the pod's label, so any change to them, even
// of layout, rolls every injected workload when the injector is upgraded.
func TestGolden(t *testing.T) {
	for name, s := range demoCases() {
		t.Run(name, func(t *testing.T) {
			g := mustGenerate(t, s)
			path := filepath.Join("testdata", name+".yaml")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, g.YAML, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bootstrap -run Golden -update)", err)
			}
			if !bytes.Equal(want, g.YAML) {
				t.Errorf("bootstrap differs from %s byte for byte (-want +got):\n%s", path, cmp.Diff(string(want), string(g.YAML)))
			}
		})
	}
}
