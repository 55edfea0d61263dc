package redirect

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; whatever it accepts is valid, and Args writes it back as a
// command line that parses to the same Spec and is written the same way again. The fuzzer's
// input is one string; a NUL separates the arguments.
func FuzzParse(f *testing.F) {
	for _, args := range [][]string{
		nil,
		Default().Args(),
		full.Args(),
		{"--inbound-port=1", "--outbound-port=2", "--proxy-uid=0"},
		{"--outbound-ip-exclusions=0.0.0.0/0,::/0", "--outbound-ip-inclusions=FD00::/8"},
		{"--inbound-port-exclusions=015021,1", "--outbound-port-exclusions=65535"},
		{"--proxy-uid=4294967295"},
		{"--inbound-port=15003", "--inbound-port=15003"},
		{"--outbound-ip-inclusions=::ffff:10.0.0.0/104"},
	} {
		f.Add(strings.Join(args, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		if joined != "" {
			args = strings.Split(joined, "\x00")
		}
		s, err := Parse(args)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse(%q) = %+v, which does not validate: %v", args, s, err)
		}
		again := s.Args()
		s2, err := Parse(again)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, whose Args %q do not parse: %v", args, s, again, err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("Parse(%q) = %+v; Parse(Args()) = %+v", args, s, s2)
		}
		if third := s2.Args(); !slices.Equal(again, third) {
			t.Fatalf("Args() = %q, then %q", again, third)
		}
	})
}
