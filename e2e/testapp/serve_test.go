package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newApp() *app {
	return &app{hostname: "testhost", client: &http.Client{Timeout: 5 * time.Second}}
}

func do(t *testing.T, method, u string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestWhoami: GET / tells both ends of the connection and the headers.
func TestWhoami(t *testing.T) {
	srv := httptest.NewServer(newApp().routes())
	defer srv.Close()
	code, body := do(t, http.MethodGet, srv.URL+"/", http.Header{"X-Test": {"1"}})
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK {
		t.Fatalf("GET / = %d %s (%v)", code, body, err)
	}
	local := strings.TrimPrefix(srv.URL, "http://")
	if got["hostname"] != "testhost" || got["local_addr"] != local || !strings.HasPrefix(got["remote_addr"].(string), "127.0.0.1:") ||
		got["headers"].(map[string]any)["X-Test"] != "1" {
		t.Errorf("GET / = %s", body)
	}
	if code, _ := do(t, http.MethodGet, srv.URL+"/nothing", nil); code != http.StatusNotFound {
		t.Errorf("an unknown path answered %d", code)
	}
}

// TestHealthz: /healthz fails between POST /fail and POST /recover.
func TestHealthz(t *testing.T) {
	srv := httptest.NewServer(newApp().routes())
	defer srv.Close()
	for _, step := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/healthz", 200},
		{http.MethodPost, "/fail", 200},
		{http.MethodGet, "/healthz", 500},
		{http.MethodPost, "/recover", 200},
		{http.MethodGet, "/healthz", 200},
	} {
		if code, body := do(t, step.method, srv.URL+step.path, nil); code != step.want {
			t.Errorf("%s %s = %d %s, want %d", step.method, step.path, code, body, step.want)
		}
	}
}

// TestCallPropagatesTraceHeaders: /call makes the GET and passes the trace headers on, as
// an instrumented application does, and reports a failed call as 502.
func TestCallPropagatesTraceHeaders(t *testing.T) {
	backend := httptest.NewServer(newApp().routes())
	defer backend.Close()
	front := httptest.NewServer(newApp().routes())
	defer front.Close()
	h := http.Header{"X-B3-Traceid": {"463ac35c9f6413ad48485a3953bb6124"}, "Traceparent": {"00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01"},
		"X-Other": {"not passed"}}
	code, body := do(t, http.MethodGet, front.URL+"/call?url="+url.QueryEscape(backend.URL+"/"), h)
	var got struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK || got.Status != http.StatusOK {
		t.Fatalf("/call = %d %s (%v)", code, body, err)
	}
	for _, want := range []string{`"X-B3-Traceid": "463ac35c9f6413ad48485a3953bb6124"`, `"Traceparent": "00-463ac35c9f6413ad48485a3953bb6124`} {
		if !strings.Contains(got.Body, want) {
			t.Errorf("the backend did not see %s:\n%s", want, got.Body)
		}
	}
	if strings.Contains(got.Body, "X-Other") {
		t.Errorf("a header other than the trace context was passed on:\n%s", got.Body)
	}
	backend.Close()
	if code, body := do(t, http.MethodGet, front.URL+"/call?url="+url.QueryEscape(backend.URL+"/"), nil); code != http.StatusBadGateway {
		t.Errorf("/call to a closed server = %d %s, want 502", code, body)
	}
}
