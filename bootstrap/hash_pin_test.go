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
	"bookbuyer":                  "98f5d5defa",
	"bookstore-v1":               "0b32463045",
	"bookstore-v2":               "0d25147d0a",
	"bookwarehouse":              "0c38ad08b9",
	"bookbuyer-tracing-off":      "32304e4826",
	"bookstore-v1-overridden":    "c87c8e0021",
	"bookbuyer-b3":               "46f56675da",
	"bookwarehouse-server-first": "9d594212de",
	"bookbuyer-otlp":             "618111e402",
	"bookbuyer-tags":             "0901c8d5e0",
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
