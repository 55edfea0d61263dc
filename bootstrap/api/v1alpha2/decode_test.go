package v1alpha2

import (
	"strings"
	"testing"
)

const meshHead = "apiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata: {name: osm-mesh-config, namespace: osm-system}\nspec:\n  observability:\n    tracing:\n"

func TestDecodeMeshConfigAccepts(t *testing.T) {
	cases := map[string]struct {
		doc   string
		check func(t *testing.T, mc *MeshConfig)
	}{
		"what kubectl get -o yaml writes": {
			doc: meshHead + "      enable: true\n      address: jaeger.osm-system.svc.cluster.local\n      port: 9411\n      sampling: 12.5\n" +
				"      tags:\n      - {tag: team, literal: \"1.10\"}\n      - {tag: tenant, header: x-tenant-id}\n" +
				"status:\n  observedGeneration: 3\n",
			check: func(t *testing.T, mc *MeshConfig) {
				tr := mc.Spec.Observability.Tracing
				if tr.Enable == nil || !*tr.Enable || *tr.Port != 9411 || *tr.Sampling != 12.5 || *tr.Tags[0].Literal != "1.10" || *tr.Tags[1].Header != "x-tenant-id" {
					t.Errorf("decoded %+v", tr)
				}
			},
		},
		"JSON": {
			doc: `{"apiVersion":"config.openservicemesh.io/v1alpha2","kind":"MeshConfig","spec":{"observability":{"tracing":{"port":4317}}}}`,
			check: func(t *testing.T, mc *MeshConfig) {
				if p := mc.Spec.Observability.Tracing.Port; p == nil || *p != 4317 {
					t.Errorf("port %v", p)
				}
			},
		},
		"empty documents around it, a comment and an explicit end": {
			doc: "---\n# the mesh\n---\n" + meshHead + "      port: 9411\n...\n",
		},
		"null is unset, as the API server prunes it": {
			doc: meshHead + "      address: null\n",
			check: func(t *testing.T, mc *MeshConfig) {
				if a := mc.Spec.Observability.Tracing.Address; a != "" {
					t.Errorf("address %q", a)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mc, err := DecodeMeshConfig([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, mc)
			}
		})
	}
}

// TestDecodeMeshConfigRefuses: each form the API server would refuse, or that a lenient
// reader would take as something else, is an error naming what is wrong and where.
func TestDecodeMeshConfigRefuses(t *testing.T) {
	cases := map[string]struct {
		doc  string
		want []string
	}{
		"an upper-case key (encoding/json matches keys in any case)": {
			doc: meshHead + "      ENABLE: true\n", want: []string{`unknown field "spec.observability.tracing.ENABLE"`},
		},
		"PORT": {
			doc: meshHead + "      PORT: 9411\n", want: []string{`unknown field "spec.observability.tracing.PORT"`},
		},
		"a field of another API": {
			doc: meshHead + "      collector: jaeger\n", want: []string{`unknown field "spec.observability.tracing.collector"`},
		},
		"an unquoted number for a string (1.10 would be \"1.1\")": {
			doc: meshHead + "      tags: [{tag: team, literal: 1.10}]\n", want: []string{"spec.observability.tracing.tags.literal", "of type string"},
		},
		"yes for a string (it would be \"true\")": {
			doc: meshHead + "      address: yes\n", want: []string{"spec.observability.tracing.address", "cannot unmarshal bool", "of type string"},
		},
		"a quoted number for an integer": {
			doc: meshHead + "      port: \"9411\"\n", want: []string{"spec.observability.tracing.port", "cannot unmarshal string"},
		},
		"a fraction for an integer": {
			doc: meshHead + "      port: 9411.5\n", want: []string{"spec.observability.tracing.port", "9411.5"},
		},
		"a string for a boolean": {
			doc: meshHead + "      enable: \"true\"\n", want: []string{"spec.observability.tracing.enable", "of type bool"},
		},
		"a second MeshConfig document": {
			doc: meshHead + "      port: 9411\n---\n" + meshHead + "      port: 9412\n", want: []string{"second document", "exactly one MeshConfig"},
		},
		"a second document of another kind": {
			doc: meshHead + "      port: 9411\n---\nkind: ConfigMap\n", want: []string{"second document"},
		},
		"garbage after the document's end": {
			doc: meshHead + "      port: 9411\n...\ngarbage\n", want: []string{"line 8", "document start"},
		},
		"garbage after a JSON object": {
			doc: `{"apiVersion":"config.openservicemesh.io/v1alpha2","kind":"MeshConfig"} {"x":1}`, want: []string{"when reading the MeshConfig's YAML"},
		},
		"trailing characters after a JSON object": {
			doc: `{"apiVersion":"config.openservicemesh.io/v1alpha2","kind":"MeshConfig"}}`, want: []string{"when reading the MeshConfig's YAML"},
		},
		".nan": {
			doc: meshHead + "      sampling: .nan\n", want: []string{"spec.observability.tracing.sampling", ".nan", "line 7"},
		},
		"-.inf": {
			doc: meshHead + "      sampling: -.Inf\n", want: []string{"spec.observability.tracing.sampling", "-.Inf"},
		},
		".nan in a list": {
			doc: meshHead + "      tags: [{tag: t, literal: .nan}]\n", want: []string{"spec.observability.tracing.tags[0].literal", ".nan"},
		},
		"a field twice": {
			doc: meshHead + "      port: 9411\n      port: 9412\n", want: []string{`"port" already set`},
		},
		"a field twice in JSON": {
			doc: `{"apiVersion":"config.openservicemesh.io/v1alpha2","kind":"MeshConfig","kind":"MeshConfig"}`, want: []string{`"kind" already`},
		},
		"another kind": {
			doc: "apiVersion: v1\nkind: ConfigMap\n", want: []string{`not a MeshConfig`, `"ConfigMap"`},
		},
		"no apiVersion": {
			doc: "kind: MeshConfig\n", want: []string{`not a MeshConfig`, `apiVersion ""`},
		},
		"empty": {
			doc: "---\n# nothing\n", want: []string{"empty"},
		},
		"not an object": {
			doc: "- a\n- b\n", want: []string{"when decoding the MeshConfig"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mc, err := DecodeMeshConfig([]byte(tc.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", mc.Spec)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// FuzzDecodeMeshConfig: never a panic; what decodes is a MeshConfig.
func FuzzDecodeMeshConfig(f *testing.F) {
	f.Add([]byte(meshHead + "      port: 9411\n"))
	f.Add([]byte(meshHead + "      sampling: .nan\n---\n"))
	f.Add([]byte(`{"apiVersion":"config.openservicemesh.io/v1alpha2","kind":"MeshConfig"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		mc, err := DecodeMeshConfig(data)
		if err == nil && (mc.Kind != "MeshConfig" || mc.APIVersion != GroupVersion.String()) {
			t.Fatalf("decoded %s %s", mc.APIVersion, mc.Kind)
		}
	})
}
