package envoystandin

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Metrics are the stand-in's own counters, served in Prometheus' text exposition format on
// the prometheus listener's /stats/prometheus and on the admin interface's. They are named
// envoystandin_* and count what the stand-in does: they are NOT Envoy's statistics and do
// not pretend to be (a dashboard built on envoy_* names finds nothing here).
type Metrics struct {
	mu       sync.Mutex
	counters map[string]map[string]uint64 // metric -> rendered labels -> value
}

// The counters, with their help text. Each has one label, named in metricLabels.
var metricHelp = map[string]string{
	"envoystandin_connections_total":               "Connections accepted on a capture listener and relayed to their original destination.",
	"envoystandin_upstream_connect_failures_total": "Connections whose original destination could not be dialled.",
	"envoystandin_http_requests_total":             "HTTP/1.x exchanges seen on relayed connections.",
	"envoystandin_spans_sent_total":                "Spans the collector accepted.",
	"envoystandin_span_errors_total":               "Spans the collector refused or that could not be sent.",
}

var metricLabels = map[string]string{
	"envoystandin_connections_total":               "listener",
	"envoystandin_upstream_connect_failures_total": "listener",
	"envoystandin_http_requests_total":             "listener",
	"envoystandin_spans_sent_total":                "tracer",
	"envoystandin_span_errors_total":               "tracer",
}

// labelEscaper escapes a label value as the text format wants it.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// NewMetrics has every counter at zero for no label value yet.
func NewMetrics() *Metrics {
	m := &Metrics{counters: map[string]map[string]uint64{}}
	for name := range metricHelp {
		m.counters[name] = map[string]uint64{}
	}
	return m
}

// Inc adds one to a counter for a label value.
func (m *Metrics) Inc(name, label string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counters[name][label]++
}

// Text is the exposition: # HELP and # TYPE, then one sample per label value, sorted.
func (m *Metrics) Text() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(m.counters)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, metricHelp[name], name)
		for _, label := range slices.Sorted(maps.Keys(m.counters[name])) {
			fmt.Fprintf(&b, "%s{%s=\"%s\"} %d\n", name, metricLabels[name], labelEscaper.Replace(label), m.counters[name][label])
		}
	}
	return b.String()
}

// ServeHTTP serves the exposition (GET or HEAD).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "only GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(m.Text()))
}
