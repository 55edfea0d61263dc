package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// state is what the state file says about a running localcluster.
type state struct {
	// PID is localcluster's; SIGTERM to it stops everything.
	PID        int       `json:"pid"`
	Started    time.Time `json:"started"`
	Kubeconfig string    `json:"kubeconfig"`
	APIServer  string    `json:"apiServer"`
	// Dir holds the control plane's files and logs.
	Dir  string `json:"dir"`
	Node string `json:"node"`
	// Jaeger is empty without --jaeger.
	Jaeger *jaegerState `json:"jaeger,omitempty"`
	// Processes are localcluster's children (pid and name) when it became ready.
	Processes []processState `json:"processes"`
}

type jaegerState struct {
	ZipkinURL string `json:"zipkinURL"`
	QueryURL  string `json:"queryURL"`
	Dir       string `json:"dir"`
}

type processState struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
}

func newState(c *framework.Cluster, j *framework.Jaeger, o options) state {
	s := state{
		PID:        os.Getpid(),
		Started:    time.Now().UTC().Truncate(time.Second),
		Kubeconfig: o.kubeconfig,
		APIServer:  c.APIServerURL,
		Dir:        c.Dir,
		Node:       c.NodeName,
		Processes:  children(),
	}
	if j != nil {
		s.Jaeger = &jaegerState{ZipkinURL: j.ZipkinURL, QueryURL: j.QueryURL, Dir: j.Dir}
	}
	return s
}

// writeState writes the state file atomically, so a reader never sees half of it.
func writeState(path string, s state) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("when encoding the state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("when making the folder of %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("when writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("when writing %s: %w", path, err)
	}
	return nil
}

// children lists this process's child processes from /proc (Linux), by pid.
func children() []processState {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	seen := map[int]bool{}
	var out []processState
	for _, t := range tasks {
		data, err := os.ReadFile(t) //nolint:gosec // G304: a /proc file of this process.
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(f)
			if err != nil || seen[pid] {
				continue
			}
			seen[pid] = true
			name, _ := os.ReadFile(filepath.Join("/proc", f, "comm")) //nolint:gosec // G304: /proc/PID/comm of a child.
			out = append(out, processState{PID: pid, Name: strings.TrimSpace(string(name))})
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].PID < out[k].PID })
	return out
}
