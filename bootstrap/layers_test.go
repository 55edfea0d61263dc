package bootstrap_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/osm-tracing/osm-tracing"

// layerOf is the layer of one of the module's packages, lowest first: the pure leaves
// bootstrap/ and webhook/redirect (osm-init's command line, which the core writes and osm-init
// parses), the pod core webhook/inject, what osm-injector runs (webhook/...), and the programs and
// their tests (cmd/, hack/, e2e/, manifests/).
func layerOf(pkg string) int {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	switch {
	case rel == "bootstrap" || strings.HasPrefix(rel, "bootstrap/") || rel == "webhook/redirect":
		return 0
	case rel == "webhook/inject":
		return 1
	case rel == "webhook" || strings.HasPrefix(rel, "webhook/"):
		return 2
	}
	return 3
}

// forbiddenInLeaf are what bootstrap/ must never depend on, even indirectly: it is values in,
// values out, with no client.
var forbiddenInLeaf = []string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime"}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// TestLayers holds the import rules of the README's layout against `go list`: no package
// imports one of a higher layer, and bootstrap/ pulls in no client.
func TestLayers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports,Deps", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list's output: %v", err)
		}
		seen++
		from := layerOf(p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if to := layerOf(imp); to > from {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports run from a higher layer down only", p.ImportPath, from, imp, to)
			}
		}
		if from != 0 {
			continue
		}
		for _, dep := range p.Deps {
			for _, bad := range forbiddenInLeaf {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s: bootstrap/ is a pure leaf without clients", p.ImportPath, dep)
				}
			}
			if strings.HasPrefix(dep, module+"/") && layerOf(dep) != 0 {
				t.Errorf("%s depends on %s, outside bootstrap/", p.ImportPath, dep)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list named only %d packages of %s", seen, module)
	}
}
