package check

import (
	"bytes"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := map[string]struct {
		r    Result
		want string
	}{
		"a pass hides its hint": {
			r:    Result{Step: 1, Title: "tracing enabled", Status: Pass, Message: "ok", Hint: "never shown"},
			want: "[PASS] 1. tracing enabled: ok\n",
		},
		"a failure shows details and hint": {
			r: Result{Step: 7, Title: "sidecars", Status: Fail, Message: "1 of 2 pods", Details: []string{"app/a"}, Hint: "restart"},
			want: "[FAIL] 7. sidecars: 1 of 2 pods\n" +
				"       - app/a\n" +
				"       hint: restart\n",
		},
		"a skip shows its hint": {
			r:    Result{Step: 8, Title: "test span", Status: Skip, Message: "not in-cluster", Hint: "curl"},
			want: "[SKIP] 8. test span: not in-cluster\n       hint: curl\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Format(tc.r); got != tc.want {
				t.Errorf("Format =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestPrinterSummary(t *testing.T) {
	var out bytes.Buffer
	p := &Printer{Out: &out}
	for _, s := range []Status{Pass, Pass, Fail, Warn, Skip} {
		p.Print(Result{Status: s})
	}
	want := "5 checks: 2 passed, 1 failed, 1 warnings, 1 skipped"
	if got := p.Summary.String(); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if strings.Count(out.String(), "\n") != 5 {
		t.Errorf("printed:\n%s", out.String())
	}
}

func TestLimit(t *testing.T) {
	got := limit([]string{"a", "b", "c", "d"}, 2)
	if strings.Join(got, ",") != "a,b,... and 2 more" {
		t.Errorf("limit = %v", got)
	}
	if got := limit([]string{"a"}, 2); len(got) != 1 {
		t.Errorf("limit of a short list = %v", got)
	}
}

func TestServiceOf(t *testing.T) {
	tests := map[string]struct {
		address, name, ns string
		ok                bool
	}{
		"the chart's default":        {address: "jaeger.osm-system.svc.cluster.local", name: "jaeger", ns: "osm-system", ok: true},
		"a short service name":       {address: "jaeger.tracing.svc", name: "jaeger", ns: "tracing", ok: true},
		"another cluster domain":     {address: "otel.obs.svc.corp.example.", name: "otel", ns: "obs", ok: true},
		"an external name":           {address: "collector.example.com"},
		"an IP address":              {address: "10.0.0.12"},
		"a bare name":                {address: "jaeger"},
		"a name.namespace shorthand": {address: "jaeger.osm-system"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, ns, ok := ServiceOf(tc.address)
			if n != tc.name || ns != tc.ns || ok != tc.ok {
				t.Errorf("ServiceOf(%q) = %q, %q, %t", tc.address, n, ns, ok)
			}
		})
	}
}
