package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// options are the command's flags.
type options struct {
	kubeconfig     string
	state          string
	dir            string
	jaeger         bool
	jaegerSelector string
	envoyStandIn   bool
	startTimeout   time.Duration
	poll           time.Duration
	testbin        string
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("localcluster: ")
	o := options{}
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "where to write the admin's kubeconfig (required)")
	flag.StringVar(&o.state, "state", "", "where to write the JSON state file once ready (removed at exit)")
	flag.StringVar(&o.dir, "dir", "", "folder for the processes' files and logs (kept after exit; default: a temporary folder, removed)")
	flag.BoolVar(&o.jaeger, "jaeger", true, "run a real Jaeger on loopback and forward the ports of app=jaeger pods to it")
	flag.StringVar(&o.jaegerSelector, "jaeger-selector", "app=jaeger", "label selector of the pods whose ports 9411 and 16686 reach the real Jaeger")
	flag.BoolVar(&o.envoyStandIn, "envoy-standin", true, "serve an Envoy admin stand-in (the pod's bootstrap) behind port 15000 of every injected pod")
	flag.DurationVar(&o.startTimeout, "start-timeout", 5*time.Minute, "how long the start-up may take")
	flag.DurationVar(&o.poll, "poll", time.Second, "how often pods are looked at for port-forwards")
	flag.StringVar(&o.testbin, "testbin", os.Getenv(framework.EnvTestBin),
		"folder of the cached binaries (default $"+framework.EnvTestBin+", or .cache/testbin of the repository around the working directory)")
	flag.Parse()
	if o.kubeconfig == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: localcluster --kubeconfig PATH [--state PATH] [--dir DIR] [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	err := run(ctx, o)
	stop()
	if err != nil {
		log.Printf("error: %v", err)
		os.Exit(1)
	}
}

// run starts everything, writes the kubeconfig and the state file, and keeps the
// port-forwards up until ctx ends; then it stops everything and removes the state file.
func run(ctx context.Context, o options) error {
	for _, p := range []*string{&o.kubeconfig, &o.state, &o.dir} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if o.testbin != "" {
		abs, err := filepath.Abs(o.testbin)
		if err != nil {
			return err
		}
		// The framework reads it (FindBinaries).
		if err := os.Setenv(framework.EnvTestBin, abs); err != nil {
			return err
		}
	}
	lo := framework.LaunchOptions{Dir: o.dir, Logf: log.Printf}
	began := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, o.startTimeout)
	defer cancel()

	var j *framework.Jaeger
	if o.jaeger {
		var stopJaeger func()
		var err error
		j, stopJaeger, err = framework.LaunchJaeger(startCtx, lo)
		if err != nil {
			return err
		}
		defer func() {
			log.Printf("stopping Jaeger")
			stopJaeger()
		}()
		log.Printf("Jaeger: Zipkin receiver %s, query API %s", j.ZipkinURL, j.QueryURL)
	}
	c, err := framework.Launch(startCtx, framework.Options{Kwok: true, StartTimeout: o.startTimeout}, lo)
	if err != nil {
		return err
	}
	defer func() {
		log.Printf("stopping the control plane")
		c.Stop()
		log.Printf("stopped")
	}()

	f, err := newForwarder(c, j, o)
	if err != nil {
		return err
	}
	defer f.close()

	if err := copyFile(c.KubeconfigPath, o.kubeconfig); err != nil {
		return err
	}
	if o.state != "" {
		if err := writeState(o.state, newState(c, j, o)); err != nil {
			return err
		}
		defer func() { _ = os.Remove(o.state) }()
	}
	log.Printf("ready in %s: export KUBECONFIG=%s", time.Since(began).Round(time.Millisecond), o.kubeconfig)

	err = f.run(ctx)
	if ctx.Err() != nil {
		log.Printf("signalled: shutting down")
		return nil
	}
	return err
}

// copyFile writes a copy of src to dst (mode 0600), atomically.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src) //nolint:gosec // G304: the framework's own kubeconfig.
	if err != nil {
		return fmt.Errorf("when reading %s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("when making the folder of %s: %w", dst, err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil { //nolint:gosec // G703: the path is the user's --kubeconfig.
		return fmt.Errorf("when writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return errors.Join(fmt.Errorf("when writing %s: %w", dst, err), os.Remove(tmp))
	}
	return nil
}
