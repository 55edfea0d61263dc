package mesh

import (
	"bytes"
	"strings"
	"testing"
)

func TestAlreadyInstalledError(t *testing.T) {
	tests := map[string]struct {
		traces []Trace
		want   []string
	}{
		"a release names the uninstall command": {
			traces: []Trace{
				{What: `Helm release "osm" (chart osm-0.1.0, deployed)`, Namespace: "osm-system", Release: "osm"},
				{What: "MeshConfig osm-mesh-config", Namespace: "osm-system"},
			},
			want: []string{
				`Helm release "osm" (chart osm-0.1.0, deployed) in namespace osm-system`,
				"MeshConfig osm-mesh-config in namespace osm-system",
				"osm uninstall mesh --mesh-name osm --osm-namespace osm-system",
			},
		},
		"leftovers without a release name the kubectl commands": {
			traces: []Trace{
				{What: "MeshConfig osm-mesh-config", Namespace: "other"},
				{What: "MutatingWebhookConfiguration osm-injector-other"},
			},
			want: []string{
				"kubectl delete meshconfig -n other osm-mesh-config",
				"kubectl delete mutatingwebhookconfiguration osm-injector-other",
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			msg := AlreadyInstalledError(tc.traces).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	tests := map[string]struct {
		input string
		want  bool
	}{
		"y":                      {input: "y\n", want: true},
		"yes in capitals":        {input: "YES\n", want: true},
		"no":                     {input: "n\n", want: false},
		"an empty line":          {input: "\n", want: false},
		"no answer at all (EOF)": {input: "", want: false},
		"yes without a newline":  {input: "yes", want: true},
		"anything else":          {input: "sure\n", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if got := Confirm(strings.NewReader(tc.input), &out, "Uninstall?"); got != tc.want {
				t.Errorf("Confirm(%q) = %t, want %t", tc.input, got, tc.want)
			}
			if !strings.Contains(out.String(), "Uninstall? [y/N]: ") {
				t.Errorf("prompt = %q", out.String())
			}
		})
	}
	if Confirm(nil, &bytes.Buffer{}, "q") {
		t.Error("Confirm with no stdin said yes")
	}
}

func TestWaitingLine(t *testing.T) {
	got := WaitingLine([]string{"Deployment osm-system/jaeger (0/1 ready)", "Deployment osm-system/osm-injector (1/2 ready)"}, 9)
	want := "waiting for 2 of 9 objects: Deployment osm-system/jaeger (0/1 ready), Deployment osm-system/osm-injector (1/2 ready)"
	if got != want {
		t.Errorf("WaitingLine = %q, want %q", got, want)
	}
}
