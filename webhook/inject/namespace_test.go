package inject_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

func TestNamespaceInMesh(t *testing.T) {
	labelled := func(name, value string) inject.Namespace {
		return inject.Namespace{Name: name, Labels: map[string]string{bootstrap.InjectionLabel: value}}
	}
	tests := map[string]struct {
		ns           inject.Namespace
		controlPlane string
		want         bool
		reason       string
	}{
		"labelled enabled":                       {ns: labelled("shop", "enabled"), want: true},
		"no label":                               {ns: inject.Namespace{Name: "shop"}, reason: `namespace "shop" is not labelled openservicemesh.io/sidecar-injection=enabled`},
		"the label with an empty value":          {ns: labelled("shop", ""), reason: `(its value is "")`},
		"another value":                          {ns: labelled("shop", "true"), reason: `(its value is "true")`},
		"the value's case matters":               {ns: labelled("shop", "Enabled"), reason: `(its value is "Enabled")`},
		"kube-system, labelled":                  {ns: labelled("kube-system", "enabled"), reason: "pods in namespace kube-system are never injected"},
		"kube-public, labelled":                  {ns: labelled("kube-public", "enabled"), reason: "pods in namespace kube-public are never injected"},
		"the control plane's":                    {ns: labelled("mesh", "enabled"), controlPlane: "mesh", reason: "namespace mesh is the control plane's"},
		"the default control plane's":            {ns: labelled(bootstrap.DefaultNamespace, "enabled"), reason: "is the control plane's"},
		"osm-system under another control plane": {ns: labelled(bootstrap.DefaultNamespace, "enabled"), controlPlane: "mesh", want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, reason := inject.NamespaceInMesh(tc.ns, tc.controlPlane)
			if got != tc.want || (tc.want && reason != "") || !strings.Contains(reason, tc.reason) {
				t.Errorf("NamespaceInMesh = %t %q, want %t with %q", got, reason, tc.want, tc.reason)
			}
		})
	}
}

func TestNeverInjectedNamespaces(t *testing.T) {
	for cp, want := range map[string][]string{
		"":            {"kube-system", "kube-public", bootstrap.DefaultNamespace},
		"mesh":        {"kube-system", "kube-public", "mesh"},
		"kube-system": {"kube-system", "kube-public"},
	} {
		if got := inject.NeverInjectedNamespaces(cp); !slices.Equal(got, want) {
			t.Errorf("NeverInjectedNamespaces(%q) = %v, want %v", cp, got, want)
		}
		for _, ns := range want {
			if never, _ := inject.NeverInjectedNamespace(ns, cp); !never {
				t.Errorf("NeverInjectedNamespace(%q, %q) is false, but the list has it", ns, cp)
			}
		}
		if never, reason := inject.NeverInjectedNamespace("shop", cp); never {
			t.Errorf("NeverInjectedNamespace(shop, %q) = %s", cp, reason)
		}
	}
	if got := inject.MeshNamespaceSelector(); got != "openservicemesh.io/sidecar-injection=enabled" {
		t.Errorf("MeshNamespaceSelector = %q", got)
	}
}
