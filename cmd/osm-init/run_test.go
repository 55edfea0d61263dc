package main

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/nft"
	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
)

// fake is a kernel that installs whatever it is sent, or refuses IPv6 tables with refuseV6.
func fake(hasIPv6 bool, refuseV6 error, globals ...netip.Addr) (nft.System, *[]string) {
	var installed []string
	return nft.System{
		Apply: func(tables []ruleset.Table) error {
			for _, t := range tables {
				if t.Family == ruleset.IPv6 && refuseV6 != nil {
					return refuseV6
				}
			}
			for _, t := range tables {
				installed = append(installed, t.Family.Keyword())
			}
			return nil
		},
		Remove:     func(...ruleset.Family) error { return nil },
		HasIPv6:    func() (bool, error) { return hasIPv6, nil },
		GlobalIPv6: func() ([]netip.Addr, error) { return globals, nil },
	}, &installed
}

func TestRun(t *testing.T) {
	refused := errors.New("nf_tables refused the transaction: no such file or directory")
	for name, c := range map[string]struct {
		args           []string
		sys            func() (nft.System, *[]string)
		code           int
		stdout, stderr []string // substrings
		installed      string
		termination    string // substring of the termination log; "" for an untouched one
	}{
		"both families, one line each": {
			args: []string{"--inbound-port=15003", "--outbound-port=15001", "--proxy-uid=1500", "--outbound-port-exclusions=3306"},
			sys:  func() (nft.System, *[]string) { return fake(true, nil) },
			stdout: []string{"osm-init: IPv4 traffic redirected to Envoy: inbound TCP to 15003",
				"osm-init: IPv6 traffic redirected to Envoy: inbound TCP to 15003", "to ports 3306"},
			installed: "ip ip6",
		},
		"a kernel without IPv6": {
			sys:       func() (nft.System, *[]string) { return fake(false, nil) },
			stdout:    []string{"osm-init: IPv4 traffic redirected"},
			stderr:    []string{"osm-init: IPv6 not redirected: this kernel has no IPv6"},
			installed: "ip",
		},
		"IPv6 refused on a pod with a global IPv6 address": {
			sys:         func() (nft.System, *[]string) { return fake(true, refused, netip.MustParseAddr("fd10::7")) },
			code:        1,
			stderr:      []string{"osm-init: the pod has IPv6 address fd10::7 but the IPv6 redirect could not be installed"},
			termination: "osm-init: the pod has IPv6 address fd10::7 but the IPv6 redirect could not be installed (nf_tables refused the transaction: no such file or directory): its IPv6 traffic would bypass Envoy\n",
		},
		"a bad flag": {
			args:        []string{"--inbound-port=http"},
			sys:         func() (nft.System, *[]string) { return fake(true, nil) },
			code:        1,
			stderr:      []string{"osm-init: --inbound-port=http: not a port: must be an integer from 1 to 65535"},
			termination: "--inbound-port=http: not a port",
		},
		"--dry-run prints the script and installs nothing": {
			args:   []string{"--dry-run", "--outbound-ip-inclusions=10.0.0.0/8"},
			sys:    func() (nft.System, *[]string) { return fake(true, nil) },
			stdout: []string{"# osm-init --dry-run --outbound-ip-inclusions=10.0.0.0/8: ", "delete table ip6 osm_proxy\n", "ip daddr 10.0.0.0/8 meta l4proto tcp redirect to :15001\n"},
		},
		"--help": {
			args:   []string{"--help"},
			sys:    func() (nft.System, *[]string) { return fake(true, nil) },
			stdout: []string{"usage: osm-init [--inbound-port=VALUE] [--outbound-port=VALUE] [--proxy-uid=VALUE]"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "termination-log")
			if err := os.WriteFile(log, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			sys, installed := c.sys()
			var stdout, stderr bytes.Buffer
			code := run(c.args, &stdout, &stderr, sys, log)
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout.String(), stderr.String())
			}
			for _, w := range c.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range c.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if got := strings.Join(*installed, " "); got != c.installed {
				t.Errorf("installed %q, want %q", got, c.installed)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if c.termination == "" && len(data) != 0 || !strings.Contains(string(data), c.termination) || strings.Count(string(data), "\n") > 1 {
				t.Errorf("termination log %q, want one line with %q", data, c.termination)
			}
		})
	}
}

// TestTerminationLogOnlyWhenThere: outside Kubernetes there is no termination log, and
// osm-init creates none.
func TestTerminationLogOnlyWhenThere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "termination-log")
	sys, _ := fake(true, nil)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--proxy-uid=x"}, &stdout, &stderr, sys, path); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("osm-init created %s: %v", path, err)
	}
	if strings.Contains(stderr.String(), "termination log") {
		t.Errorf("a missing termination log is reported: %s", stderr.String())
	}
}
