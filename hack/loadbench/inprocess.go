package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// startInjectorInProcess runs the injector with app.Run in this process, with the options the
// binary gets from startInjector's flags, so that this process's CPU profile is the
// injector's. Its logs go to dir/osm-injector.log, as the binary's do (zap's production
// encoder, info level: the binary's defaults).
func startInjectorInProcess(ctx context.Context, c *framework.Cluster, dir string) (*injector, error) {
	p, err := newInjectorPorts()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "osm-injector.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) //nolint:gosec // G304: a file of the work folder.
	if err != nil {
		return nil, fmt.Errorf("when opening %s: %w", logPath, err)
	}
	logger := zap.New(zap.WriteTo(logFile))
	ctrl.SetLogger(logger)

	o := app.DefaultOptions()
	o.Kubeconfig = c.KubeconfigPath
	o.Namespace = bootstrap.DefaultNamespace
	o.WebhookURL = p.base
	o.WebhookHost = "127.0.0.1"
	o.WebhookPort = p.webhookPort
	o.MetricsBindAddress = p.metricsAddr
	o.HealthProbeBindAddress = p.healthAddr
	o.ConfigMapGCGrace = gcGrace
	o.Logger = logger.WithName("osm-injector")

	in := p.injector(logPath)
	in.pid = os.Getpid()
	runCtx, cancel := context.WithCancel(context.Background())
	go func() {
		in.waitErr = app.Run(runCtx, o)
		_ = logFile.Close()
		close(in.done)
	}()
	in.halt = func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(stopTimeout):
			log.Printf("osm-injector (in process) did not stop within %v; going on", stopTimeout)
		}
	}
	log.Printf("osm-injector in this process: webhook %s, metrics %s, probes %s; log %s", //nolint:gosec // G706: loopback addresses and a file of the work folder.
		p.base, p.metricsAddr, p.healthAddr, logPath)
	return in, in.waitReady(ctx)
}
