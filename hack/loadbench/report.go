package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is what the benchmark found, printed as markdown.
type report struct {
	o          options
	started    time.Time
	cpuModel   string
	warmup     *row
	idle       *row
	rows       []*row
	configMaps []string
	peakRSS    int64
	rss        int64
}

func newReport(o options) *report {
	return &report{o: o, started: time.Now(), cpuModel: cpuModel()}
}

func (r *report) failures() int {
	n := 0
	if r.warmup != nil {
		n += r.warmup.lt.Failures
	}
	for _, x := range r.rows {
		n += x.lt.Failures
	}
	return n
}

func (r *report) print(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## osm-injector admission webhook load benchmark\n\n")
	p("%s; %d CPUs (%s); %s; runs of at most %d requests", r.started.Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), r.cpuModel, runtime.Version(), r.o.requests)
	if r.o.duration > 0 {
		p(" / %v", r.o.duration)
	}
	p(" each; pods of namespace %s (the bookbuyer Deployment's), not dry-run.", benchNamespace)
	if r.o.injectorBin != "" {
		p(" Injector binary: %s.", r.o.injectorBin)
	}
	if r.o.inProcess() {
		p(" The injector ran inside loadbench (app.Run) for profiling, not as its own process.")
	}
	p("\n\n")

	if len(r.rows) > 0 {
		p("| c | requests | errors | p50 | p90 | p99 | max | req/s | ConfigMaps created | API writes (all) | all writes / 1000 adm. | ConfigMap writes / 1000 adm. | injector CPU / adm. | load avg 1m (start → end) |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, x := range r.rows {
			l := x.lt.LatencyMs
			p("| %s | %d | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.0f | %.0f | %.0f | %s | %s | %s | %.2f → %.2f |\n",
				strings.TrimPrefix(x.label, "c="), x.lt.Requests, x.lt.Failures, l.P50, l.P90, l.P99, l.Max, x.lt.Throughput,
				x.d.created, x.d.totalWrites(), per1000(x.d.totalWrites(), x.d.admissions),
				per1000(x.d.configMapWrites(), x.d.admissions), cpuPer(x.d.injCPU, x.d.admissions),
				x.d.loadBefore[0], x.d.loadAfter[0])
		}
		p("\n")
	}

	if r.warmup != nil {
		p("- Warm-up: %d requests at c=1 (p50 %.2f ms, max %.2f ms, %d failed); ConfigMaps created: %.0f; bootstrap ConfigMaps in %s: %s.\n",
			r.warmup.lt.Requests, r.warmup.lt.LatencyMs.P50, r.warmup.lt.LatencyMs.Max, r.warmup.lt.Failures,
			r.warmup.d.created, benchNamespace, orNone(r.configMaps))
	}
	if r.idle != nil {
		p("- Idle baseline (%v, no requests): %.0f API writes (%.2f/s): %s.\n", r.idle.d.took.Round(100*time.Millisecond),
			r.idle.d.totalWrites(), r.idle.d.totalWrites()/r.idle.d.took.Seconds(), writesList(r.idle.d.writes))
	}
	if r.peakRSS > 0 {
		p("- osm-injector peak RSS (VmHWM): %.1f MiB; RSS at the end: %.1f MiB.\n", mib(r.peakRSS), mib(r.rss))
	}
	if len(r.rows) > 0 {
		p("- Protocol: %s. The load tool's own CPU time per request: %s.\n", r.rows[0].lt.Protocol, clientCPU(r.rows))
		p("- API writes are kube-apiserver's `apiserver_request_total` with a write verb during each run, from every " +
			"writer (kube-apiserver's own lease renewals and the injector's controllers included); by resource:\n\n")
		p("%s\n", r.writesTable())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writesTable has a row per "VERB resource" and a column per run, warm-up and idle first.
func (r *report) writesTable() string {
	cols := []*row{}
	if r.warmup != nil {
		cols = append(cols, r.warmup)
	}
	if r.idle != nil {
		cols = append(cols, r.idle)
	}
	cols = append(cols, r.rows...)
	keys := map[string]bool{}
	for _, c := range cols {
		for k := range c.d.writes {
			keys[k] = true
		}
	}
	var b strings.Builder
	b.WriteString("| write |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s (%.1fs) |", c.label, c.d.took.Seconds())
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	if len(keys) == 0 {
		b.WriteString("| (none) |")
		for range cols {
			b.WriteString(" 0 |")
		}
		b.WriteString("\n")
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		fmt.Fprintf(&b, "| %s |", k)
		for _, c := range cols {
			fmt.Fprintf(&b, " %.0f |", c.d.writes[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func writesList(w map[string]float64) string {
	if len(w) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range w {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func per1000(n, admissions float64) string {
	if admissions <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", n/admissions*1000)
}

func cpuPer(sec, admissions float64) string {
	if admissions <= 0 || sec <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", sec/admissions*1e6)
}

func clientCPU(rows []*row) string {
	var parts []string
	for _, x := range rows {
		if x.lt.Requests > 0 && x.clientC > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f µs", x.label, float64(x.clientC.Microseconds())/float64(x.lt.Requests)))
		}
	}
	return orNone(parts)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
