package envoystandin

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseFlags parses the command line the injector gives the envoy container (after the
// kubelet expanded $(POD_NAME).$(POD_NAMESPACE)) and refuses what Envoy refuses.
func TestParseFlags(t *testing.T) {
	got, err := ParseFlags([]string{"-c", "/etc/envoy/bootstrap.yaml", "--log-level", "info",
		"--service-node", "bookbuyer-7d9f.bookbuyer", "--disable-hot-restart", "--concurrency", "2"})
	if err != nil {
		t.Fatal(err)
	}
	want := Flags{ConfigPath: "/etc/envoy/bootstrap.yaml", LogLevel: "info", ServiceNode: "bookbuyer-7d9f.bookbuyer",
		DisableHotRestart: true, Concurrency: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseFlags (-want +got):\n%s", diff)
	}
	if got, err := ParseFlags([]string{"--config-path=/b.yaml", "-l", "warning", "--service-cluster", "x"}); err != nil ||
		got.ConfigPath != "/b.yaml" || got.LogLevel != "warning" || got.ServiceCluster != "x" {
		t.Errorf("long and short twins: %+v, %v", got, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-c", "/b.yaml", "--drain-time-s", "5"}, "flag provided but not defined: -drain-time-s"},
		{[]string{"-c", "/b.yaml", "extra"}, `unexpected argument "extra"`},
		{[]string{"--log-level", "info"}, "no bootstrap"},
		{[]string{"-c", "/b.yaml", "--log-level", "verbose"}, `--log-level "verbose" is not one of Envoy's levels`},
		{[]string{"-c", "/b.yaml", "--concurrency", "-1"}, "--concurrency -1: a number of threads is 0 or more"},
		{[]string{"-c", "/b.yaml", "--concurrency", "two"}, "invalid value"},
		{[]string{"--help"}, "no help here"},
	} {
		_, err := ParseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFlags(%q) = %v, want an error with %q", c.args, err, c.want)
		}
	}
}
