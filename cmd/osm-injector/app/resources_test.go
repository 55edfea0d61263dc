package app

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestParseResources(t *testing.T) {
	tests := map[string]struct {
		in      string
		wantErr string
		want    *corev1.ResourceRequirements
	}{
		"empty means the defaults": {in: "", want: nil},
		"the chart's default": {
			in: `{"limits":{"memory":"512Mi"},"requests":{"cpu":"50m","memory":"64Mi"}}`,
			want: &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("50m"),
					corev1.ResourceMemory: resource.MustParse("64Mi"),
				},
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
			},
		},
		"a misspelt key is refused": {in: `{"request":{"cpu":"50m"}}`, wantErr: `unknown field "request"`},
		"a bad quantity is refused": {in: `{"requests":{"cpu":"fifty"}}`, wantErr: "quantities"},
		"not JSON is refused":       {in: `cpu=50m`, wantErr: "JSON object"},
		"two objects are refused":   {in: `{} {}`, wantErr: "more after it"},
		"a request above its limit": {in: `{"requests":{"memory":"1Gi"},"limits":{"memory":"512Mi"}}`, wantErr: "exceeds its limit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseResources(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseResources(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseResources(%q): %v", tc.in, err)
			}
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("parseResources(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if got != nil {
				for _, list := range []struct{ got, want corev1.ResourceList }{{got.Requests, tc.want.Requests}, {got.Limits, tc.want.Limits}} {
					if len(list.got) != len(list.want) {
						t.Fatalf("got %v, want %v", list.got, list.want)
					}
					for k, v := range list.want {
						if g := list.got[k]; g.Cmp(v) != 0 {
							t.Fatalf("%s = %s, want %s", k, g.String(), v.String())
						}
					}
				}
			}
		})
	}
}

func TestProxyConfigTakesEnvoyResources(t *testing.T) {
	o := DefaultOptions()
	o.EnvoyResources = `{"requests":{"cpu":"200m"}}`
	o.InitResources = `{"limits":{"memory":"32Mi"}}`
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	p := o.proxyConfig()
	if got := p.Resources.Requests[corev1.ResourceCPU]; got.String() != "200m" {
		t.Fatalf("envoy cpu request = %s, want 200m", got.String())
	}
	if got := p.InitResources.Limits[corev1.ResourceMemory]; got.String() != "32Mi" {
		t.Fatalf("osm-init memory limit = %s, want 32Mi", got.String())
	}
	if _, ok := p.Resources.Limits[corev1.ResourceMemory]; ok {
		t.Fatal("the flag replaces the defaults whole; the default memory limit should be gone")
	}
	d := DefaultOptions()
	if def := d.proxyConfig(); def.Resources.Requests.Cpu().String() != "50m" {
		t.Fatalf("without the flag the default cpu request should stay 50m, got %s", def.Resources.Requests.Cpu().String())
	}
}
