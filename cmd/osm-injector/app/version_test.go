package app

import (
	"bytes"
	"strings"
	"testing"
)

// TestVersionFlag checks that --version prints the version set at build time (hack/image sets
// Version and GitCommit with -ldflags -X) and starts nothing, and that -v is not taken.
func TestVersionFlag(t *testing.T) {
	oldVersion, oldCommit := Version, GitCommit
	t.Cleanup(func() { Version, GitCommit = oldVersion, oldCommit })

	for _, tc := range []struct{ version, commit, want string }{
		{"dev", "", "osm-injector version dev\n"},
		{"0.1.0", "0123abc", "osm-injector version 0.1.0 (commit 0123abc)\n"},
	} {
		Version, GitCommit = tc.version, tc.commit
		cmd := NewCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"--version"})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("osm-injector --version: %v", err)
		}
		if out.String() != tc.want {
			t.Errorf("osm-injector --version printed %q, want %q", out.String(), tc.want)
		}
	}
	if f := NewCommand().Flags().ShorthandLookup("v"); f != nil {
		t.Errorf("-v is the shorthand of --%s", f.Name)
	}
	var help bytes.Buffer
	cmd := NewCommand()
	cmd.SetOut(&help)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil || !strings.Contains(help.String(), "--version") {
		t.Errorf("osm-injector --help (err %v) does not list --version:\n%s", err, help.String())
	}
}
