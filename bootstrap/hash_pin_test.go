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
	"bookbuyer":                  "5ffb417dac",
	"bookstore-v1":               "648bdb47cc",
	"bookstore-v2":               "6a04c91031",
	"bookwarehouse":              "4e8869ccf7",
	"bookbuyer-tracing-off":      "2ac05f26c4",
	"bookstore-v1-overridden":    "8a01b00c13",
	"bookbuyer-b3":               "ff9503dcb6",
	"bookwarehouse-server-first": "6e999a0600",
	"bookbuyer-otlp":             "96c9c4bf6f",
	"bookbuyer-tags":             "108035c7c1",
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
