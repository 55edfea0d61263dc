package envoystandin

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type seen struct {
	mu  sync.Mutex
	got []string
}

func (s *seen) report(req *http.Request, status int, _, _ time.Time, _, _ int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, req.Method+" "+req.Host+req.RequestURI+" "+http.StatusText(status))
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// runTap feeds a tap the two streams of one connection, in chunks as a relay would (the
// whole request side first: the tap must cope with pipelining), and returns what it reported.
func runTap(t *testing.T, requests, responses string) []string {
	t.Helper()
	var s seen
	tp := newTap(s.report)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for chunk := range chunks(responses, 7) {
			tp.toDownstream([]byte(chunk))
		}
		tp.downstreamDone()
	}()
	for chunk := range chunks(requests, 5) {
		tp.toUpstream([]byte(chunk))
	}
	tp.upstreamDone()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the tap blocked the relay")
	}
	// The last report may come just after the last bytes were taken.
	deadline := time.Now().Add(time.Second)
	for len(s.list()) == 0 && time.Now().Before(deadline) && strings.HasPrefix(requests, "GET") {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	tp.stop()
	return s.list()
}

func chunks(s string, n int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

func TestTapFollowsHTTP1(t *testing.T) {
	requests := "GET /a HTTP/1.1\r\nHost: web:8080\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: web:8080\r\nContent-Length: 5\r\n\r\nhello" +
		"HEAD /c HTTP/1.1\r\nHost: web:8080\r\n\r\n"
	responses := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
		"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n"
	want := []string{"GET web:8080/a OK", "POST web:8080/b Created", "HEAD web:8080/c Not Found"}
	if diff := cmp.Diff(want, runTap(t, requests, responses)); diff != "" {
		t.Errorf("exchanges (-want +got):\n%s", diff)
	}
}

func TestTapLetsOtherProtocolsBe(t *testing.T) {
	for name, requests := range map[string]string{
		"binary":        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"http2 preface": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"text":          "hello\n",
		"no newline":    strings.Repeat("x", 10000),
	} {
		if got := runTap(t, requests, "whatever comes back\n"); len(got) != 0 {
			t.Errorf("%s: reported %q", name, got)
		}
	}
}

func TestTapStopsAtAnUpgrade(t *testing.T) {
	requests := "GET /ws HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"
	responses := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"
	want := []string{"GET web/ws Switching Protocols"}
	if diff := cmp.Diff(want, runTap(t, requests, responses)); diff != "" {
		t.Errorf("exchanges (-want +got):\n%s", diff)
	}
}
