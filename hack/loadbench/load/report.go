package load

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// summary is the report, also its JSON form.
type summary struct {
	URL         string   `json:"url"`
	Concurrency int      `json:"concurrency"`
	Protocol    string   `json:"protocol"`
	DryRun      bool     `json:"dryRun"`
	Requests    int      `json:"requests"`
	OK          int      `json:"ok"`
	Errors      int      `json:"errors"`
	NotAllowed  int      `json:"notAllowed"`
	NoPatch     int      `json:"noPatch"`
	Failures    int      `json:"failures"`
	ElapsedSec  float64  `json:"elapsedSeconds"`
	Throughput  float64  `json:"throughputPerSecond"`
	LatencyMs   latMs    `json:"latencyMs"`
	Samples     []string `json:"errorSamples,omitempty"`
}

// latMs are latencies in milliseconds.
type latMs struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// summarizeResults turns the measurements into the report.
func summarizeResults(res *results, url string, concurrency int, dryRun bool) summary {
	lat := summarize(res.latencies)
	s := summary{
		URL: url, Concurrency: concurrency, Protocol: protocols(res.protocols), DryRun: dryRun,
		OK: res.counts[outcomeOK], Errors: res.counts[outcomeError],
		NotAllowed: res.counts[outcomeDenied], NoPatch: res.counts[outcomeNoPatch],
		ElapsedSec: res.elapsed.Seconds(),
		LatencyMs:  latMs{P50: ms(lat.P50), P90: ms(lat.P90), P99: ms(lat.P99), Max: ms(lat.Max), Mean: ms(lat.Mean)},
		Samples:    res.samples,
	}
	s.Requests = s.OK + s.Errors + s.NotAllowed + s.NoPatch
	s.Failures = s.Errors + s.NotAllowed + s.NoPatch
	s.Throughput = throughput(s.Requests, res.elapsed)
	return s
}

// protocols lists the HTTP versions answers came over, most used first ("none" if none).
func protocols(counts map[string]int) string {
	names := slices.Collect(maps.Keys(counts))
	if len(names) == 0 {
		return "none"
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a, b)) })
	return strings.Join(names, ", ")
}

// printJSON writes the report as indented JSON.
func (s summary) printJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// printTable writes the report as an aligned table.
func (s summary) printTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"url", s.URL},
		{"concurrency", fmt.Sprint(s.Concurrency)},
		{"protocol", s.Protocol},
		{"dry-run", fmt.Sprint(s.DryRun)},
		{"requests", fmt.Sprint(s.Requests)},
		{"ok", fmt.Sprint(s.OK)},
		{"errors", fmt.Sprint(s.Errors)},
		{"not allowed", fmt.Sprint(s.NotAllowed)},
		{"no patch", fmt.Sprint(s.NoPatch)},
		{"elapsed", fmt.Sprintf("%.2fs", s.ElapsedSec)},
		{"throughput", fmt.Sprintf("%.1f req/s", s.Throughput)},
		{"latency p50", fmt.Sprintf("%.2fms", s.LatencyMs.P50)},
		{"latency p90", fmt.Sprintf("%.2fms", s.LatencyMs.P90)},
		{"latency p99", fmt.Sprintf("%.2fms", s.LatencyMs.P99)},
		{"latency max", fmt.Sprintf("%.2fms", s.LatencyMs.Max)},
		{"latency mean", fmt.Sprintf("%.2fms", s.LatencyMs.Mean)},
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1]); err != nil {
			return err
		}
	}
	for _, m := range s.Samples {
		if _, err := fmt.Fprintf(tw, "failure\t%s\n", m); err != nil {
			return err
		}
	}
	return tw.Flush()
}
