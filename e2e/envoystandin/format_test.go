package envoystandin

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// TestSpanNames: the contract's default span names, rendered; Envoy's default names when the
// HCM sets no operation; an unavailable value renders empty in a span name.
func TestSpanNames(t *testing.T) {
	parse := func(s string) *Format {
		f, err := ParseFormat(s, bootstrap.SpanNameCommands)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	out := exchange(http.Header{"X-Tenant": {"acme-corporation"}})
	in := out
	in.Listener, in.Upstream = "inbound", netip.MustParseAddrPort("10.1.0.9:14001")
	for _, c := range []struct {
		op   *Format
		x    Exchange
		want string
	}{
		{parse(bootstrap.DefaultOutboundSpanName), out, "GET bookstore.bookstore:14001"},
		{parse(bootstrap.DefaultInboundSpanName), in, "GET :14001"},
		{nil, out, "egress bookstore.bookstore:14001"},
		{nil, in, "ingress"},
		{parse("%REQ(X-Missing?X-Tenant):4% %PROTOCOL% [%REQ(X-None)%]"), out, "acme HTTP/1.1 []"},
	} {
		if got := SpanName(c.op, c.x); got != c.want {
			t.Errorf("SpanName(%v) = %q, want %q", c.op, got, c.want)
		}
	}
	for _, bad := range []string{"%START_TIME%", "%REQ%", "%REQ(:PATH)", "%PROTOCOL(x)%", "%NOPE%"} {
		if _, err := ParseFormat(bad, bootstrap.SpanNameCommands); err == nil {
			t.Errorf("ParseFormat(%q) accepted it", bad)
		}
	}
}

// TestAccessLogFormats renders the contract's access log formats, as the bootstrap has them
// (with the listener's name for %DIRECTION%).
func TestAccessLogFormats(t *testing.T) {
	parse := func(s string) *Format {
		f, err := ParseFormat(strings.ReplaceAll(s, "%DIRECTION%", "outbound"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	x := exchange(http.Header{"X-Request-Id": {"2c1b"}})
	x.RequestBytes, x.ResponseBytes, x.TraceID = 0, 512, "4bf92f3577b34da6a3ce929d0e0e4736"
	x.End = x.Start.Add(3 * 1e6)
	got := parse(bootstrap.AccessLogHTTPFormat).Render(x.Facts(), "-")
	want := `[2026-01-02T03:04:05.000Z] outbound "GET /books-bought?x=1 HTTP/1.1" 200 - 0 512 3ms "bookstore.bookstore:14001" ` +
		"10.1.0.5:40000 -> 10.96.0.20:14001 trace=4bf92f3577b34da6a3ce929d0e0e4736 req=2c1b\n"
	if got != want {
		t.Errorf("HTTP line:\n got %q\nwant %q", got, want)
	}
	x.Header, x.TraceID = http.Header{}, ""
	if got := parse(bootstrap.AccessLogHTTPFormat).Render(x.Facts(), "-"); !strings.HasSuffix(got, " trace=- req=-\n") {
		t.Errorf("without trace and request id: %q", got)
	}
	tcp := Facts{Start: x.Start, Duration: 802e6, BytesReceived: 120, BytesSent: 4096, ResponseFlags: "UF",
		DownstreamRemote: netip.MustParseAddrPort("[fd00::7]:41240"), UpstreamHost: netip.MustParseAddrPort("10.96.0.20:3306")}
	if got, want := parse(bootstrap.AccessLogTCPFormat).Render(tcp, "-"),
		"[2026-01-02T03:04:05.000Z] outbound tcp UF 120 4096 802ms [fd00::7]:41240 -> 10.96.0.20:3306\n"; got != want {
		t.Errorf("TCP line:\n got %q\nwant %q", got, want)
	}
}
