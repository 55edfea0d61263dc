package inject

import "testing"

func TestEscapePointer(t *testing.T) {
	cases := map[string]struct{ token, want string }{
		"a plain key is left alone":           {"app", "app"},
		"a slash is ~1":                       {"tracing.openservicemesh.io/bootstrap-hash", "tracing.openservicemesh.io~1bootstrap-hash"},
		"a tilde is ~0":                       {"a~b", "a~0b"},
		"a written ~1 is not read as a slash": {"a~1b/c", "a~01b~1c"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := escapePointer(tc.token); got != tc.want {
				t.Errorf("escapePointer(%q) = %q, want %q", tc.token, got, tc.want)
			}
		})
	}
}
