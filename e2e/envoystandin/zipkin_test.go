package envoystandin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func exchange(h http.Header) Exchange {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return Exchange{Listener: "outbound", Method: "GET", Host: "bookstore.bookstore:14001", Path: "/books-bought?x=1",
		Status: 200, Start: start, End: start.Add(1500 * time.Microsecond),
		Local: netip.MustParseAddrPort("10.1.0.5:15001"), Peer: netip.MustParseAddrPort("10.1.0.5:40000"),
		Upstream: netip.MustParseAddrPort("10.96.0.20:14001"), Header: h, Proto: "HTTP/1.1"}
}

// TestNewSpanJoinsTheB3Trace: a request carrying B3 headers gets a span in that trace, as a
// child of the caller's span, in Zipkin v2 JSON.
func TestNewSpanJoinsTheB3Trace(t *testing.T) {
	h := http.Header{}
	h.Set("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124")
	h.Set("X-B3-SpanId", "a2fb4a1d1a96d312")
	s := NewSpan("bookbuyer", "bookbuyer-1.bookbuyer", exchange(h), "GET bookstore.bookstore:14001", map[string]string{"team": "payments"})
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(s.ID) {
		t.Errorf("span id %q", s.ID)
	}
	s.ID = "x"
	raw, err := json.Marshal([]Span{s})
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{
		"traceId": "463ac35c9f6413ad48485a3953bb6124", "id": "x", "parentId": "a2fb4a1d1a96d312",
		"kind": "CLIENT", "name": "GET bookstore.bookstore:14001",
		"timestamp": float64(1767323045000000), "duration": float64(1500),
		"localEndpoint":  map[string]any{"serviceName": "bookbuyer", "ipv4": "10.1.0.5", "port": float64(15001)},
		"remoteEndpoint": map[string]any{"ipv4": "10.96.0.20", "port": float64(14001)},
		"tags": map[string]any{
			"component": "envoy-standin", "node_id": "bookbuyer-1.bookbuyer", "http.method": "GET",
			"http.url": "http://bookstore.bookstore:14001/books-bought?x=1", "http.status_code": "200",
			"upstream_address": "10.96.0.20:14001", "peer.address": "10.1.0.5", "listener": "outbound",
			"http.protocol": "HTTP/1.1", "team": "payments",
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("span JSON (-want +got):\n%s", diff)
	}
}

// TestNewSpanStartsATrace: without (valid) B3 headers the span starts a new 128-bit trace;
// an inbound one is a SERVER span whose remote end is the peer.
func TestNewSpanStartsATrace(t *testing.T) {
	h := http.Header{}
	h.Set("X-B3-TraceId", "not-hex")
	x := exchange(h)
	x.Listener = "inbound"
	s := NewSpan("bookstore", "n", x, "ingress", nil)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(s.TraceID) || s.ParentID != "" {
		t.Errorf("trace %q parent %q, want a new 128-bit trace without parent", s.TraceID, s.ParentID)
	}
	if s.Kind != "SERVER" || s.RemoteEndpoint.IPv4 != "10.1.0.5" || s.RemoteEndpoint.Port != 40000 {
		t.Errorf("inbound span: kind %s, remote %+v", s.Kind, s.RemoteEndpoint)
	}
	if other := NewSpan("bookstore", "n", x, "ingress", nil); other.TraceID == s.TraceID {
		t.Error("two new traces have the same id")
	}
}

func TestSampled(t *testing.T) {
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for _, c := range []struct {
		h       http.Header
		percent float64
		want    bool
	}{
		{header(), 100, true},
		{header(), 0, false},
		{header("X-B3-Sampled", "1"), 0, true},
		{header("X-B3-Sampled", "true"), 0, true},
		{header("X-B3-Flags", "1"), 0, true},
		{header("X-B3-Sampled", "0"), 100, false},
	} {
		if got := Sampled(c.h, c.percent); got != c.want {
			t.Errorf("Sampled(%v, %v) = %v", c.h, c.percent, got)
		}
	}
}

// TestPostSpans posts to an HTTP server on loopback that checks what a Zipkin collector
// reads: the method, path, Host header, content type and a JSON array of spans.
func TestPostSpans(t *testing.T) {
	var got []Span
	var host, contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/spans" {
			http.Error(w, "wrong request", http.StatusNotFound)
			return
		}
		host, contentType = r.Host, r.Header.Get("Content-Type")
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	span := NewSpan("bookbuyer", "n", exchange(http.Header{}), "egress bookstore.bookstore:14001", nil)
	status, err := PostSpans(context.Background(), srv.Client(), srv.URL+"/api/v2/spans", "jaeger.osm-system.svc.cluster.local", []Span{span})
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("PostSpans = %d, %v", status, err)
	}
	if host != "jaeger.osm-system.svc.cluster.local" || contentType != "application/json" || len(got) != 1 || got[0].TraceID != span.TraceID {
		t.Errorf("the collector saw host %q, content type %q, spans %+v", host, contentType, got)
	}
	if _, err := PostSpans(context.Background(), srv.Client(), srv.URL+"/wrong", "", []Span{span}); err == nil {
		t.Error("a 404 from the collector is not an error")
	}
}
