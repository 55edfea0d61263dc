package main

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// logMu keeps JSON lines whole when handlers log at once.
var logMu sync.Mutex

// logEvent writes one JSON line to stdout with "time" and "event" added.
func logEvent(event string, fields map[string]any) {
	line := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		line[k] = v
	}
	line["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	line["event"] = event
	data, err := json.Marshal(line)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"time": line["time"], "event": "error", "error": err.Error()})
	}
	logMu.Lock()
	defer logMu.Unlock()
	_, _ = os.Stdout.Write(append(data, '\n'))
}

// signalName is SIGTERM rather than Go's "terminated".
func signalName(sig os.Signal) string {
	switch sig.String() {
	case "terminated":
		return "SIGTERM"
	case "interrupt":
		return "SIGINT"
	case "hangup":
		return "SIGHUP"
	}
	return sig.String()
}
