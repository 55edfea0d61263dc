package bootstrap_test

import (
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func TestDidYouMean(t *testing.T) {
	traffic := []string{
		"openservicemesh.io/outbound-ip-range-exclusion-list",
		"openservicemesh.io/outbound-port-exclusion-list",
		"openservicemesh.io/inbound-port-exclusion-list",
	}
	tests := map[string]struct {
		key   string
		known []string
		want  string
	}{
		"a plural":                      {"openservicemesh.io/outbound-ip-range-exclusion-lists", traffic, traffic[0]},
		"the closest of several":        {"openservicemesh.io/inbound-port-exclusion-lst", traffic, traffic[2]},
		"ASCII case is ignored":         {bootstrap.AnnotationPrefix + "PORT", bootstrap.KnownAnnotations, bootstrap.AnnotationPort},
		"an abbreviation":               {bootstrap.AnnotationPrefix + "addr", bootstrap.KnownAnnotations, bootstrap.AnnotationAddress},
		"a known key is no misspelling": {traffic[1], traffic, ""},
		"nothing close":                 {"openservicemesh.io/sidecar-image", traffic, ""},
		"no known keys":                 {"x", nil, ""},
		"a long hostile key":            {strings.Repeat("x", 1<<16), traffic, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := bootstrap.DidYouMean(tc.key, tc.known); got != tc.want {
				t.Errorf("DidYouMean(%.60q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func TestResolveUnknownUpperCaseAnnotationSuggestsItsKey(t *testing.T) {
	_, err := bootstrap.Resolve(bootstrap.Input{Defaults: bootstrap.Defaults("osm-system"), PodName: "web",
		PodAnnotations: map[string]string{bootstrap.AnnotationPrefix + "ENABLE": "true"}})
	if err == nil || !strings.Contains(err.Error(), "did you mean "+bootstrap.AnnotationEnable+"?") {
		t.Fatalf("error %v; want a suggestion of %s", err, bootstrap.AnnotationEnable)
	}
}
