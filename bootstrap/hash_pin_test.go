package bootstrap

import "testing"

// pinnedHashes are the hashes of the demo workloads' bootstraps.
//
// A change here reaches every injected workload when the injector is upgraded: the hash
// names the ConfigMap and labels the pods, so new bytes mean new ConfigMaps for new pods, and
// every running pod is reported outdated (same settings, other rendering) until it restarts;
// the re-bootstrap controller rolls them only when asked (spec.rebootstrap.onUpgrade, osm
// proxy rollout --outdated). Such a change must be deliberate and named in the commit
// message. Update the table only together with the golden files (go test ./bootstrap -run
// Golden -update; the goldens of webhook/inject and cmd/osm name the ConfigMaps too: go test
// ./webhook/inject ./cmd/osm -update).
var pinnedHashes = map[string]string{
	"bookbuyer":                  "9f9b75d1b8",
	"bookstore-v1":               "fa3c633832",
	"bookstore-v2":               "f300a3aba2",
	"bookwarehouse":              "8f705a8896",
	"bookbuyer-tracing-off":      "0193950971",
	"bookstore-v1-overridden":    "98414aebcb",
	"bookbuyer-b3":               "0ad7ea6923",
	"bookwarehouse-server-first": "412025d9be",
	"bookbuyer-otlp":             "455692d549",
	"bookbuyer-tags":             "b8136fa58a",
	"bookbuyer-observability":    "bcdcd95e90",
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
