package load

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// Bounds that keep a run from going on by mistake.
const (
	maxDuration    = time.Hour
	maxConcurrency = 1024
	defaultCount   = 1000
)

// options are the command line.
type options struct {
	url, caFile, namespace  string
	insecure, dryRun, http1 bool
	asJSON                  bool
	concurrency, requests   int
	duration, timeout       time.Duration
}

// Main is `loadbench load`: args are its flags; it returns the exit status (0 all allowed
// with a patch, 1 some failure, 2 bad usage or set-up).
func Main(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "loadbench load:", err)
		return 2
	}
	target, err := checkURL(opts.url)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "loadbench load:", err)
		return 2
	}
	client, err := newClient(clientConfig{caFile: opts.caFile, insecure: opts.insecure, http1: opts.http1,
		concurrency: opts.concurrency, timeout: opts.timeout})
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "loadbench load:", err)
		return 2
	}
	factory, err := newRequestFactory(opts.namespace, opts.dryRun)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "loadbench load:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	l := &load{target: withTimeoutParam(target, opts.timeout), client: client, factory: factory,
		concurrency: opts.concurrency, requests: opts.requests, duration: opts.duration}
	res := l.run(ctx)
	s := summarizeResults(res, target.String(), opts.concurrency, opts.dryRun)
	if opts.asJSON {
		err = s.printJSON(stdout)
	} else {
		err = s.printTable(stdout)
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "loadbench load:", err)
		return 2
	}
	if s.Failures > 0 || s.Requests == 0 {
		return 1
	}
	return 0
}

// parseFlags reads and checks the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadbench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "webhook URL, https on a loopback host (e.g. https://127.0.0.1:9443/mutate-v1-pod)")
	fs.IntVar(&o.concurrency, "c", 8, "concurrent workers")
	fs.IntVar(&o.requests, "n", 0, fmt.Sprintf("total requests (default %d when -d is not given)", defaultCount))
	fs.DurationVar(&o.duration, "d", 0, "run for this long (at most 1h); with -n, whichever ends first")
	fs.StringVar(&o.caFile, "ca", "", "PEM file of the CA(s) to trust (the webhook's caBundle)")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server certificate")
	fs.StringVar(&o.namespace, "namespace", "bookbuyer", "namespace of the Pods")
	fs.BoolVar(&o.dryRun, "dry-run", false, "send dryRun requests (no bootstrap ConfigMap is written)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.BoolVar(&o.http1, "http1", false, "use HTTP/1.1 instead of HTTP/2")
	fs.BoolVar(&o.asJSON, "json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.url == "":
		return o, errors.New("-url is required")
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return o, fmt.Errorf("-c must be between 1 and %d", maxConcurrency)
	case o.requests < 0:
		return o, errors.New("-n must not be negative")
	case o.duration < 0 || o.duration > maxDuration:
		return o, fmt.Errorf("-d must be between 0 and %v", maxDuration)
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive")
	case o.namespace == "":
		return o, errors.New("-namespace must not be empty")
	}
	if o.requests == 0 && o.duration == 0 {
		o.requests = defaultCount
	}
	return o, nil
}
