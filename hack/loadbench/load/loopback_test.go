package load

import (
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	cases := map[string]struct {
		url  string
		want string // "" when accepted, else part of the error
	}{
		"IPv4 loopback":                   {"https://127.0.0.1:9443/mutate-v1-pod", ""},
		"anywhere in 127.0.0.0/8":         {"https://127.1.2.3:9443/", ""},
		"IPv6 loopback":                   {"https://[::1]:9443/mutate-v1-pod", ""},
		"IPv4-mapped loopback":            {"https://[::ffff:127.0.0.1]:9443/", ""},
		"localhost":                       {"https://localhost:9443/mutate-v1-pod", ""},
		"localhost in capitals":           {"https://LOCALHOST:9443/", ""},
		"a private address":               {"https://10.0.0.1:9443/", "not a loopback address"},
		"a public address":                {"https://8.8.8.8/", "not a loopback address"},
		"the unspecified address":         {"https://0.0.0.0:9443/", "not a loopback address"},
		"a cluster service name":          {"https://osm-injector.osm-system.svc:443/", "not a loopback address"},
		"a name that starts as localhost": {"https://localhost.example.com/", "not a loopback address"},
		"a loopback-looking name":         {"https://127.0.0.1.nip.io/", "not a loopback address"},
		"plain HTTP":                      {"http://127.0.0.1:9443/", "must be https"},
		"no host":                         {"https:///mutate", "no host"},
		"not a URL":                       {"://", "invalid -url"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := checkURL(tc.url)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkURL(%q) = %v, want accepted", tc.url, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkURL(%q) = %v, want an error containing %q", tc.url, err, tc.want)
			}
		})
	}
}

func TestLoopbackOnlyDialControl(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:9443":   true,
		"127.9.9.9:1":      true,
		"[::1]:9443":       true,
		"10.0.0.1:9443":    false,
		"[2001:db8::1]:80": false,
		"garbage":          false,
	}
	for addr, ok := range cases {
		if err := loopbackOnly("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v, want allowed=%v", addr, err, ok)
		}
	}
}
