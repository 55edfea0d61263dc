package bootstrap

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (go test ./bootstrap -run Golden -update)")

// TestGolden compares each demo bootstrap with testdata/<case>.yaml, structurally: both are
// decoded as YAML, so layout changes alone do not fail it.
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
			if diff := cmp.Diff(generic(t, want), generic(t, g.YAML)); diff != "" {
				t.Errorf("bootstrap differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}
