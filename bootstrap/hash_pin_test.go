package bootstrap

import "testing"

// pinnedHashes are the hashes of the demo workloads' bootstraps.
//
// A change here rolls every injected workload when the injector is upgraded: the hash names
// the ConfigMap and labels the pod template's pods, so new bytes mean new ConfigMaps and, once
// the re-bootstrap controller or a rollout catches up, a restart of every sidecar in the mesh.
// Such a change must be deliberate and named in the commit message and the changelog. Update
// the table only together with the golden files (go test ./bootstrap -run Golden -update).
var pinnedHashes = map[string]string{
	"bookbuyer":                  "25c994e31f",
	"bookstore-v1":               "2fd9af7420",
	"bookstore-v2":               "d052011e3d",
	"bookwarehouse":              "76140acfd9",
	"bookbuyer-tracing-off":      "28270d2d88",
	"bookstore-v1-overridden":    "0b5a22bc5c",
	"bookbuyer-b3":               "c262938cc2",
	"bookwarehouse-server-first": "771dbd1bbe",
	"bookbuyer-otlp":             "884e28d2ba",
	"bookbuyer-tags":             "a4fdb7e9d1",
}

// TestPinnedHashes holds every demo bootstrap's hash to the table above.
func TestPinnedHashes(t *testing.T) {
	cases := demoCases()
	if len(cases) != len(pinnedHashes) {
		t.Errorf("%d demo cases, %d pinned hashes: pin every case", len(cases), len(pinnedHashes))
	}
	for name, s := range cases {
		want, ok := pinnedHashes[name]
		if !ok {
			t.Errorf("%s: no pinned hash", name)
			continue
		}
		if got := mustGenerate(t, s).Hash; got != want {
			t.Errorf("%s: bootstrap hash %s, pinned %s: this rolls every injected workload on upgrade (see pinnedHashes)", name, got, want)
		}
	}
}
