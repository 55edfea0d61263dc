package envoystandin

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheckFail: the stand-in refuses a GET, as Envoy's admin does; a POST is logged and
// turns the health listener's answer to 503 DRAINING, as Envoy's /ready turns.
func TestHealthcheckFail(t *testing.T) {
	var log bytes.Buffer
	s := &server{events: NewEvents(&log)}
	s.ready.Store(true)
	get := func(h http.HandlerFunc, method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h(w, httptest.NewRequest(method, path, http.NoBody))
		return w
	}
	if w := get(s.healthReady, http.MethodGet, "/healthz/ready"); w.Code != http.StatusOK {
		t.Fatalf("before the drain: %d %s", w.Code, w.Body)
	}
	if w := get(s.healthcheckFail, http.MethodGet, healthcheckFailPath); w.Code != http.StatusMethodNotAllowed || s.failed.Load() {
		t.Errorf("GET %s: %d, failed %t; want 405 and nothing done", healthcheckFailPath, w.Code, s.failed.Load())
	}
	if w := get(s.healthcheckFail, http.MethodPost, healthcheckFailPath); w.Code != http.StatusOK {
		t.Errorf("POST %s: %d", healthcheckFailPath, w.Code)
	}
	if w := get(s.healthReady, http.MethodGet, "/healthz/ready"); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "DRAINING") {
		t.Errorf("after the drain: %d %q, want 503 DRAINING", w.Code, w.Body)
	}
	if !strings.Contains(log.String(), `"event":"healthcheck_fail"`) {
		t.Errorf("no healthcheck_fail event in %s", &log)
	}
}
