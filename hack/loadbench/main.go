package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/hack/loadbench/load"
)

// loadCommand is the subcommand that generates the load (package load); the benchmark runs
// it as a child process of this binary, so that its CPU is not the injector's.
const loadCommand = "load"

// Bounds that keep a benchmark from going on by mistake.
const (
	maxRunDuration = 5 * time.Minute
	maxRequests    = 1_000_000
	maxLevel       = 1024
	maxRepeat      = 10
	maxQuietWait   = time.Hour
)

// options are the command line.
type options struct {
	levels       []int
	requests     int
	duration     time.Duration
	repeat       int
	warmup       int
	settle       time.Duration
	maxLoad      float64
	maxWait      time.Duration
	dir          string
	keep         bool
	http1        bool
	startTimeout time.Duration
	cpuProfile   string
	memProfile   string
	injectorBin  string
	// injectorGOGC, when set, is the injector's GOGC (the chart sets osm.injector.gogc).
	injectorGOGC string
	// restartAfter, when set, runs the restart measurement instead (runRestart), with
	// shutdownDelay as the injectors' --shutdown-delay ("" = their default).
	restartAfter  time.Duration
	shutdownDelay string
}

// inProcess: profiling runs the injector in this process.
func (o options) inProcess() bool { return o.cpuProfile != "" || o.memProfile != "" }

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("loadbench: ")
	os.Exit(mainStatus(os.Args[1:], os.Stdout, os.Stderr))
}

func mainStatus(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == loadCommand {
		return load.Main(args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "loadbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := run(ctx, o)
	if rep != nil {
		if perr := rep.print(stdout); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		log.Printf("error: %v", err)
		return 1
	}
	if rep != nil && rep.failures() > 0 {
		log.Printf("some requests failed: see the errors column")
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(fs.Output(), "usage:\n"+
			"  loadbench [flags]        benchmark osm-injector on a local control plane it starts (below)\n"+
			"  loadbench load -url URL  load a running webhook and report latencies (loadbench load -h)\n\nflags:\n")
		fs.PrintDefaults()
	}
	levels := fs.String("levels", "1,8,32", "comma-separated concurrencies to run, in order")
	fs.IntVar(&o.requests, "n", 5000, "requests per run (0: no limit, then -d is required)")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "longest time per run (0: no limit, then -n is required; at most 5m)")
	fs.IntVar(&o.repeat, "repeat", 3, "runs per concurrency (at most 10)")
	fs.IntVar(&o.warmup, "warmup", 200, "warm-up requests at c=1 before the runs (they create the bootstrap ConfigMap)")
	fs.DurationVar(&o.settle, "settle", 10*time.Second, "idle time after the warm-up, measured as the background-writes baseline")
	fs.Float64Var(&o.maxLoad, "max-load", 0, "wait until the 1-minute load average is at most this before starting (0: do not wait)")
	fs.DurationVar(&o.maxWait, "max-wait", 25*time.Minute, "with -max-load, how long to wait before running anyway")
	fs.StringVar(&o.dir, "dir", "", "folder for the binaries, logs and CA (kept); default a temporary folder, removed unless -keep")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (logs of etcd, kube-apiserver and the injector)")
	fs.BoolVar(&o.http1, "http1", false, "pass -http1 to the load tool (the injector serves HTTP/1.1 only anyway)")
	fs.DurationVar(&o.startTimeout, "start-timeout", 3*time.Minute, "how long starting the control plane and the injector may take")
	fs.StringVar(&o.injectorBin, "injector", "", "an osm-injector binary to measure instead of building ./cmd/osm-injector (to compare two builds)")
	fs.StringVar(&o.injectorGOGC, "injector-gogc", "", "GOGC of the injector process only (as the chart's osm.injector.gogc sets it); empty: inherited")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "run the injector in this process (app.Run) and write a CPU profile of the measured runs to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "run the injector in this process (app.Run) and write its allocation profile (from its start) to this file at the end")
	fs.DurationVar(&o.restartAfter, "restart-after", 0, "instead of the benchmark: run two injectors behind a loopback balancer, "+
		"load them at the first -levels concurrency for -d, and SIGTERM the first one this long into the run; report failed requests")
	fs.StringVar(&o.shutdownDelay, "shutdown-delay", "", "with -restart-after: the injectors' --shutdown-delay (0s is the old behaviour: stop at once)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxLevel {
			return o, fmt.Errorf("-levels: %q is not a concurrency between 1 and %d", f, maxLevel)
		}
		o.levels = append(o.levels, n)
	}
	switch {
	case o.requests < 0 || o.requests > maxRequests:
		return o, fmt.Errorf("-n must be between 0 and %d", maxRequests)
	case o.duration < 0 || o.duration > maxRunDuration:
		return o, fmt.Errorf("-d must be between 0 and %v", maxRunDuration)
	case o.requests == 0 && o.duration == 0:
		return o, errors.New("give -n or -d (or both): a run must be bounded")
	case o.repeat < 1 || o.repeat > maxRepeat:
		return o, fmt.Errorf("-repeat must be between 1 and %d", maxRepeat)
	case o.warmup < 1 || o.warmup > 100_000:
		return o, errors.New("-warmup must be between 1 and 100000 (the first request creates the ConfigMap)")
	case o.settle < 0 || o.settle > 10*time.Minute:
		return o, errors.New("-settle must be between 0 and 10m")
	case o.maxLoad < 0:
		return o, errors.New("-max-load must not be negative")
	case o.maxWait < 0 || o.maxWait > maxQuietWait:
		return o, fmt.Errorf("-max-wait must be between 0 and %v", maxQuietWait)
	case o.startTimeout <= 0:
		return o, errors.New("-start-timeout must be positive")
	case o.restartAfter < 0 || (o.restartAfter > 0 && (o.duration <= o.restartAfter || o.inProcess())):
		return o, errors.New("-restart-after must be shorter than -d, and excludes -cpuprofile/-memprofile")
	case o.shutdownDelay != "" && o.restartAfter == 0:
		return o, errors.New("-shutdown-delay goes with -restart-after")
	case o.injectorBin != "" && o.inProcess():
		return o, errors.New("-injector and -cpuprofile/-memprofile exclude each other (profiling runs this tree's injector in process)")
	}
	return o, nil
}

// run does the whole benchmark and tears everything down before it returns. The report is
// returned with whatever runs were done, even on error.
func run(ctx context.Context, o options) (*report, error) {
	root, err := framework.RepoRoot()
	if err != nil {
		return nil, err
	}
	workDir, cleanup, err := workFolder(o)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	if o.maxLoad > 0 {
		if err := waitQuiet(ctx, o.maxLoad, o.maxWait); err != nil {
			return nil, err
		}
	}

	log.Printf("building osm-injector into %s", filepath.Join(workDir, "bin")) //nolint:gosec // G706: the work folder.
	bins, err := buildBinaries(ctx, root, filepath.Join(workDir, "bin"))
	if err != nil {
		return nil, err
	}
	if o.injectorBin != "" {
		if bins.injector, err = filepath.Abs(o.injectorBin); err != nil {
			return nil, err
		}
		log.Printf("measuring the injector %s", bins.injector)
	}

	startCtx, cancel := context.WithTimeout(ctx, o.startTimeout)
	defer cancel()
	lo := framework.LaunchOptions{Logf: func(format string, args ...any) { log.Printf(format, args...) }}
	if o.keep || o.dir != "" {
		lo.Dir = filepath.Join(workDir, "cluster")
	}
	log.Printf("starting etcd and kube-apiserver on loopback")
	c, err := framework.Launch(startCtx, framework.Options{StartTimeout: o.startTimeout}, lo)
	if err != nil {
		return nil, err
	}
	defer func() {
		log.Printf("stopping the control plane")
		c.Stop()
	}()

	if err := setupCluster(startCtx, c, root); err != nil {
		return nil, err
	}
	if o.restartAfter > 0 {
		res, err := runRestart(ctx, o, c, bins, workDir)
		if res != nil {
			if perr := res.print(os.Stdout); perr != nil && err == nil {
				err = perr
			}
			if err == nil && res.summary.Failures > 0 {
				err = fmt.Errorf("%d of %d requests failed across the restart", res.summary.Failures, res.summary.Requests)
			}
		}
		return nil, err
	}
	var inj *injector
	if o.inProcess() {
		inj, err = startInjectorInProcess(startCtx, c, workDir)
	} else {
		inj, err = startInjector(startCtx, c, bins.injector, workDir, o.injectorGOGC)
	}
	if err != nil {
		return nil, err
	}
	defer inj.stop()

	caPath := filepath.Join(workDir, "ca.crt")
	if err := writeWebhookCA(startCtx, c, caPath); err != nil {
		return nil, err
	}
	b := &bench{o: o, c: c, inj: inj, self: bins.self, caPath: caPath}
	rep := newReport(o)
	err = b.runAll(ctx, rep)
	rep.peakRSS, rep.rss = inj.memory()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return rep, err
}

// workFolder is -dir, or a temporary folder removed by cleanup unless -keep.
func workFolder(o options) (dir string, cleanup func(), err error) {
	if o.dir != "" {
		dir, err = filepath.Abs(o.dir)
		if err != nil {
			return "", nil, err
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", nil, fmt.Errorf("when making %s: %w", dir, err)
		}
		return dir, func() { log.Printf("files kept in %s", dir) }, nil
	}
	dir, err = os.MkdirTemp("", "osm-loadbench-")
	if err != nil {
		return "", nil, fmt.Errorf("when making a temporary folder: %w", err)
	}
	if o.keep {
		return dir, func() { log.Printf("files kept in %s", dir) }, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// waitQuiet waits until the 1-minute load average is at most maxLoad, or maxWait has passed.
func waitQuiet(ctx context.Context, maxLoad float64, maxWait time.Duration) error {
	deadline := time.Now().Add(maxWait)
	for {
		load, err := loadAvg()
		if err != nil {
			return err
		}
		if load[0] <= maxLoad {
			log.Printf("load average %.2f %.2f %.2f: quiet enough (≤ %.2f)", load[0], load[1], load[2], maxLoad)
			return nil
		}
		if !time.Now().Before(deadline) {
			log.Printf("load average %.2f %.2f %.2f still above %.2f after %v: running anyway", load[0], load[1], load[2], maxLoad, maxWait)
			return nil
		}
		log.Printf("load average %.2f %.2f %.2f above %.2f: waiting (until %s at most)", load[0], load[1], load[2], maxLoad,
			deadline.Format("15:04:05"))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
		}
	}
}

// loadAvg is /proc/loadavg's 1, 5 and 15-minute load averages.
func loadAvg() ([3]float64, error) {
	var out [3]float64
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out, fmt.Errorf("when reading the load average: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return out, fmt.Errorf("unexpected /proc/loadavg: %q", data)
	}
	for i := range out {
		if out[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return out, fmt.Errorf("unexpected /proc/loadavg: %q", data)
		}
	}
	return out, nil
}
