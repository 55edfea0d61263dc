package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/manifests"
)

func meshRun(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = execute(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMeshCommandsAreListed(t *testing.T) {
	code, out, _ := meshRun("--help")
	if code != 0 {
		t.Fatalf("osm --help exited %d", code)
	}
	for _, want := range []string{"install", "uninstall", "namespace", "proxy", "tracing", "version", "completion", "--kubeconfig", "--context"} {
		if !strings.Contains(out, want) {
			t.Errorf("osm --help lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := meshRun("completion", "bash"); code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("osm completion bash exited %d", code)
	}
}

func TestArgumentErrors(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"proxy get needs QUERY and POD":   {args: []string{"proxy", "get", "config_dump"}, want: "accepts 2 arg(s)"},
		"proxy bootstrap needs POD":       {args: []string{"proxy", "bootstrap"}, want: "accepts 1 arg(s)"},
		"namespace add needs a namespace": {args: []string{"namespace", "add"}, want: "requires at least 1 arg(s)"},
		"tracing check takes one pod":     {args: []string{"tracing", "check", "a", "b"}, want: "accepts at most 1 arg(s)"},
		"tracing plan needs a change":     {args: []string{"tracing", "plan"}, want: "exactly one of -p PATCH"},
		"tracing plan takes one change": {
			args: []string{"tracing", "plan", "-p", "{}", "-f", "m.yaml"},
			want: "exactly one of -p PATCH",
		},
		"tracing plan names a missing file": {
			args: []string{"tracing", "plan", "-f", "/nonexistent/m.yaml"},
			want: "-f: open /nonexistent/m.yaml",
		},
		"tracing plan output formats": {args: []string{"tracing", "plan", "-p", "{}", "-o", "yaml"}, want: `-o "yaml": accepted values are text and json`},
		"a missing kubeconfig is named": {
			args: []string{"namespace", "list", "--kubeconfig", "/nonexistent/kubeconfig"},
			want: "/nonexistent/kubeconfig",
		},
		"uninstall needs its subcommand's flags": {args: []string{"uninstall", "mesh", "--nope"}, want: "unknown flag: --nope"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := meshRun(tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("osm %s: exit %d, stderr %q; want an error containing %q", strings.Join(tc.args, " "), code, errOut, tc.want)
			}
		})
	}
}

// TestVersionClientNeedsNoCluster checks `osm version --client`: the CLI's version, the
// chart's default injector image and the archive `make image` builds for it, without a
// cluster.
func TestVersionClientNeedsNoCluster(t *testing.T) {
	code, out, errOut := meshRun("version", "--client", "--kubeconfig", "/nonexistent")
	if code != 0 || !strings.HasPrefix(out, "CLI Version: ") {
		t.Errorf("osm version --client: exit %d, %q %q", code, out, errOut)
	}
	img, err := manifests.DefaultInjectorImage()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nChart Injector Image: " + img.Ref() + "\n",
		"\nInjector Image Archive: bin/" + img.Archive() + " (make image)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("osm version --client lacks %q:\n%s", want, out)
		}
	}
}
