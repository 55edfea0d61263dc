package envoystandin

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// Events writes the stand-in's log: one JSON object per line, so that a test can parse
// `kubectl logs` line by line. Every object has "time" (RFC 3339 with nanoseconds, UTC) and
// "event"; the other keys depend on the event (see the package documentation). Keys come out
// sorted (encoding/json sorts map keys).
type Events struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewEvents writes events to w.
func NewEvents(w io.Writer) *Events { return &Events{w: w, now: time.Now} }

// Emit writes one event with the given fields; "time" and "event" are set here.
func (e *Events) Emit(event string, fields map[string]any) {
	line := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		line[k] = v
	}
	line["time"] = e.now().UTC().Format(time.RFC3339Nano)
	line["event"] = event
	data, err := json.Marshal(line)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"time": line["time"], "event": "error", "error": "cannot encode event " + event + ": " + err.Error()})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(data, '\n'))
}

// Line writes one line of text as it is (an access log line), with a newline when it lacks
// one. The access log formats start with '[': a reader of events skips such lines, since they
// are not JSON objects.
func (e *Events) Line(text string) {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = io.WriteString(e.w, text)
}
