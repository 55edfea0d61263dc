package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// pauseBetweenRuns lets the previous run's connections close and the machine settle.
const pauseBetweenRuns = 3 * time.Second

// bench runs the load tool and measures around it.
type bench struct {
	o   options
	c   *framework.Cluster
	inj *injector
	// self is this binary, whose load subcommand generates the load.
	self   string
	caPath string
}

// ltSummary is the part of the load subcommand's -json summary used here.
type ltSummary struct {
	Concurrency int     `json:"concurrency"`
	Protocol    string  `json:"protocol"`
	Requests    int     `json:"requests"`
	OK          int     `json:"ok"`
	Failures    int     `json:"failures"`
	ElapsedSec  float64 `json:"elapsedSeconds"`
	Throughput  float64 `json:"throughputPerSecond"`
	LatencyMs   struct {
		P50  float64 `json:"p50"`
		P90  float64 `json:"p90"`
		P99  float64 `json:"p99"`
		Max  float64 `json:"max"`
		Mean float64 `json:"mean"`
	} `json:"latencyMs"`
	Samples []string `json:"errorSamples"`
}

// snapshot is what the counters say at one instant.
type snapshot struct {
	at         time.Time
	created    float64            // osm_injector_bootstrap_configmaps_created_total
	admissions float64            // osm_injector_admissions_total, every result
	injCPU     float64            // the injector's process_cpu_seconds_total
	writes     map[string]float64 // kube-apiserver's write requests by "VERB resource[/subresource]"
	load       [3]float64
}

// delta is what happened between two snapshots.
type delta struct {
	took       time.Duration
	created    float64
	admissions float64
	injCPU     float64
	writes     map[string]float64
	loadBefore [3]float64
	loadAfter  [3]float64
}

func (d delta) totalWrites() float64 {
	var n float64
	for _, v := range d.writes {
		n += v
	}
	return n
}

// configMapWrites are the writes to ConfigMaps: the admission path's only kind of write.
func (d delta) configMapWrites() float64 {
	var n float64
	for k, v := range d.writes {
		if strings.HasSuffix(k, " configmaps") {
			n += v
		}
	}
	return n
}

// row is one measured run.
type row struct {
	label   string
	lt      ltSummary
	d       delta
	peakRSS int64
	clientC time.Duration // the load tool's own CPU time
}

func (b *bench) runAll(ctx context.Context, rep *report) error {
	log.Printf("warming up: %d requests at c=1", b.o.warmup)
	before, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	warm, _, err := b.load(ctx, 1, b.o.warmup, 0)
	if err != nil {
		return err
	}
	after, err := b.snapshot(ctx)
	if err != nil {
		return err
	}
	rep.warmup = &row{label: "warm-up c=1", lt: warm, d: diff(before, after)}
	if warm.Failures > 0 {
		return fmt.Errorf("the warm-up had %d failed requests: %s", warm.Failures, strings.Join(warm.Samples, "; "))
	}
	cms, err := b.c.Clientset.CoreV1().ConfigMaps(benchNamespace).List(ctx, metav1.ListOptions{
		LabelSelector: bootstrap.ManagedByLabel + "=" + bootstrap.ManagedByValue})
	if err != nil {
		return fmt.Errorf("when listing the bootstrap ConfigMaps: %w", err)
	}
	for _, cm := range cms.Items {
		rep.configMaps = append(rep.configMaps, cm.Name)
	}
	log.Printf("warm-up: %d requests, p50 %.2fms; bootstrap ConfigMaps in %s: %v", warm.Requests, warm.LatencyMs.P50, //nolint:gosec // G706: names of this cluster's ConfigMaps.
		benchNamespace, rep.configMaps)

	if b.o.settle > 0 {
		log.Printf("idle for %v (the background-writes baseline)", b.o.settle)
		s0, err := b.snapshot(ctx)
		if err != nil {
			return err
		}
		if err := sleep(ctx, b.o.settle); err != nil {
			return err
		}
		s1, err := b.snapshot(ctx)
		if err != nil {
			return err
		}
		rep.idle = &row{label: "idle", d: diff(s0, s1)}
	}

	stopProfile, err := startCPUProfile(b.o.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	for _, c := range b.o.levels {
		for i := range b.o.repeat {
			label := "c=" + strconv.Itoa(c)
			if b.o.repeat > 1 {
				label += " #" + strconv.Itoa(i+1)
			}
			r, err := b.measure(ctx, label, c)
			if err != nil {
				return err
			}
			rep.rows = append(rep.rows, r)
			log.Printf("%s: %d requests, %d failed, p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms, %.0f req/s, %.0f API writes, load %.2f",
				label, r.lt.Requests, r.lt.Failures, r.lt.LatencyMs.P50, r.lt.LatencyMs.P90, r.lt.LatencyMs.P99,
				r.lt.LatencyMs.Max, r.lt.Throughput, r.d.totalWrites(), r.d.loadAfter[0])
			if err := sleep(ctx, pauseBetweenRuns); err != nil {
				return err
			}
		}
	}
	stopProfile()
	return writeMemProfile(b.o.memProfile)
}

// startCPUProfile starts this process's CPU profile into path ("" does nothing); the returned
// function stops it and may be called more than once.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path) //nolint:gosec // G304: the user's -cpuprofile.
	if err != nil {
		return nil, fmt.Errorf("when creating %s: %w", path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("when starting the CPU profile: %w", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			_ = f.Close()
			log.Printf("CPU profile of the measured runs: %s (go tool pprof -top %s)", path, path)
		})
	}, nil
}

// writeMemProfile writes the allocation profile to path ("" does nothing).
func writeMemProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path) //nolint:gosec // G304: the user's -memprofile.
	if err != nil {
		return fmt.Errorf("when creating %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return fmt.Errorf("when writing the allocation profile: %w", err)
	}
	log.Printf("allocation profile: %s (go tool pprof -sample_index=alloc_space -top %s)", path, path)
	return nil
}

// measure runs the load tool once at concurrency c, with snapshots around it.
func (b *bench) measure(ctx context.Context, label string, c int) (*row, error) {
	before, err := b.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	lt, clientCPU, err := b.load(ctx, c, b.o.requests, b.o.duration)
	if err != nil {
		return nil, err
	}
	after, err := b.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	peak, _ := b.inj.memory()
	return &row{label: label, lt: lt, d: diff(before, after), peakRSS: peak, clientC: clientCPU}, nil
}

// load runs `loadbench load -json` and returns its summary and its CPU time. A run with failed
// requests is not an error here (the summary counts them); a run that could not be done is.
func (b *bench) load(ctx context.Context, c, n int, d time.Duration) (ltSummary, time.Duration, error) {
	args := []string{loadCommand, "-url", b.inj.webhookURL, "-ca", b.caPath, "-namespace", benchNamespace,
		"-c", strconv.Itoa(c), "-n", strconv.Itoa(n), "-json"}
	if d > 0 {
		args = append(args, "-d", d.String())
	}
	if b.o.http1 {
		args = append(args, "-http1")
	}
	cmd := exec.CommandContext(ctx, b.self, args...) //nolint:gosec // G204: this binary, with flags made here.
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 1) {
		return ltSummary{}, 0, fmt.Errorf("loadbench %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	var s ltSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		return ltSummary{}, 0, fmt.Errorf("when reading the load's summary: %w: %s", err, strings.TrimSpace(out.String()))
	}
	var cpu time.Duration
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if b.inj.exited() {
		return s, cpu, fmt.Errorf("osm-injector ended during the run (%w); its log ends with:\n%s", b.inj.waitErr, tail(b.inj.logPath, 30))
	}
	return s, cpu, nil
}

// snapshot scrapes the injector's and kube-apiserver's metrics.
func (b *bench) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{at: time.Now()}
	body, status, err := httpGet(ctx, b.inj.metricsURL)
	if err == nil && status != 200 {
		err = fmt.Errorf("status %d", status)
	}
	if err != nil {
		return s, fmt.Errorf("when scraping the injector's metrics: %w", err)
	}
	samples, err := parseMetrics(body)
	if err != nil {
		return s, fmt.Errorf("the injector's metrics: %w", err)
	}
	for _, m := range samples {
		switch m.name {
		case "osm_injector_bootstrap_configmaps_created_total":
			s.created += m.value
		case "osm_injector_admissions_total":
			s.admissions += m.value
		case "process_cpu_seconds_total":
			s.injCPU += m.value
		}
	}
	body, err = b.c.Clientset.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return s, fmt.Errorf("when scraping kube-apiserver's metrics: %w", err)
	}
	if samples, err = parseMetrics(body); err != nil {
		return s, fmt.Errorf("kube-apiserver's metrics: %w", err)
	}
	s.writes = map[string]float64{}
	for _, m := range samples {
		if m.name != "apiserver_request_total" || !writeVerbs[m.labels["verb"]] {
			continue
		}
		res := m.labels["resource"]
		if sub := m.labels["subresource"]; sub != "" {
			res += "/" + sub
		}
		s.writes[m.labels["verb"]+" "+res] += m.value
	}
	if s.load, err = loadAvg(); err != nil {
		return s, err
	}
	return s, nil
}

// writeVerbs are the verbs of apiserver_request_total that change something.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true}

func diff(a, b snapshot) delta {
	d := delta{took: b.at.Sub(a.at), created: b.created - a.created, admissions: b.admissions - a.admissions,
		injCPU: b.injCPU - a.injCPU, writes: map[string]float64{}, loadBefore: a.load, loadAfter: b.load}
	for k, v := range b.writes {
		if n := v - a.writes[k]; n != 0 {
			d.writes[k] = n
		}
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
