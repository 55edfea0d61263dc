package bootstrap

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestConfigMap(t *testing.T) {
	g := mustGenerate(t, demoCases()["bookbuyer"])
	cm := ConfigMap("bookbuyer", g)
	if want := "envoy-bootstrap-bookbuyer-" + g.Hash; cm.Name != want {
		t.Errorf("name %q, want %q", cm.Name, want)
	}
	if cm.Namespace != "bookbuyer" {
		t.Errorf("namespace %q, want bookbuyer", cm.Namespace)
	}
	if cm.Immutable == nil || !*cm.Immutable {
		t.Error("not immutable")
	}
	if got := cm.Labels[ManagedByLabel]; got != ManagedByValue {
		t.Errorf("label %s = %q, want %q", ManagedByLabel, got, ManagedByValue)
	}
	if got := cm.Labels[BootstrapHashKey]; got != g.Hash {
		t.Errorf("label %s = %q, want %q", BootstrapHashKey, got, g.Hash)
	}
	if len(cm.Data) != 2 || cm.Data[BootstrapKey] != string(g.YAML) || cm.Data[BootstrapIPv4Key] != string(g.IPv4YAML) {
		t.Errorf("data: want exactly %s holding the YAML and %s the IPv4-only YAML, got keys %v", BootstrapKey, BootstrapIPv4Key, slices.Sorted(maps.Keys(cm.Data)))
	}
	if len(g.IPv4YAML) == 0 || bytes.Equal(g.IPv4YAML, g.YAML) {
		t.Errorf("the IPv4-only rendering is empty or the dual-stack one")
	}
	// A hand-made Generated without the second rendering gets no empty key.
	if cm := ConfigMap("bookbuyer", Generated{Settings: g.Settings, YAML: g.YAML, Hash: g.Hash}); len(cm.Data) != 1 {
		t.Errorf("without IPv4YAML: keys %v, want %s alone", slices.Sorted(maps.Keys(cm.Data)), BootstrapKey)
	}
	for k, v := range cm.Labels {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("label %s=%q: %v", k, v, errs)
		}
	}
}

func TestConfigMapName(t *testing.T) {
	const hash = "0123456789"
	cases := map[string]struct{ service, want string }{
		"demo service":              {"bookstore-v2", "envoy-bootstrap-bookstore-v2-0123456789"},
		"long name is cut":          {strings.Repeat("a", 100), "envoy-bootstrap-" + strings.Repeat("a", 36) + "-0123456789"},
		"cut leaves no dash before": {strings.Repeat("a", 35) + "-b", "envoy-bootstrap-" + strings.Repeat("a", 35) + "-0123456789"},
		"label value characters":    {"Book_Buyer.v2", "envoy-bootstrap-book-buyer-v2-0123456789"},
		"nothing usable":            {"___", "envoy-bootstrap-0123456789"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := ConfigMapName(c.service, hash)
			if got != c.want {
				t.Errorf("ConfigMapName(%q) = %q, want %q", c.service, got, c.want)
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("%q is not a DNS-1123 label: %v", got, errs)
			}
		})
	}
	if a, b := ConfigMapName("bookbuyer", "aaaaaaaaaa"), ConfigMapName("bookbuyer", "bbbbbbbbbb"); a == b {
		t.Errorf("different hashes give the same name %q", a)
	}
	if got := ConfigMapName("x", strings.Repeat("f", 80)); len(got) > 63 {
		t.Errorf("an overlong hash gives %q (%d bytes)", got, len(got))
	}
}
