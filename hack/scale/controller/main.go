// Command controller runs only the re-bootstrap controller (rebootstrap.Setup on a
// controller-runtime manager), so that the scale test can measure its memory and CPU apart
// from the webhook. osm-injector runs the same controller beside its webhook.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

func main() {
	os.Exit(runMain())
}

// runMain parses the flags and runs the manager until SIGINT or SIGTERM; it returns the
// exit code (so that deferred calls run before os.Exit).
func runMain() int {
	namespace := flag.String("osm-namespace", bootstrap.DefaultNamespace, "control-plane namespace")
	maxRollouts := flag.Int("max-concurrent-rollouts", rebootstrap.DefaultMaxConcurrent, "rollouts at once")
	qps := flag.Float64("kube-api-qps", 50, "client QPS")
	burst := flag.Int("kube-api-burst", 100, "client burst")
	metrics := flag.String("metrics-bind-address", "0", "metrics address; 0 disables it")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *namespace, *maxRollouts, float32(*qps), *burst, *metrics); err != nil {
		fmt.Fprintln(os.Stderr, "controller:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, namespace string, maxRollouts int, qps float32, burst int, metrics string) error {
	ctrl.SetLogger(zap.New())
	// --kubeconfig is controller-runtime's flag.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("when reading the kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = qps, burst
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("when building the scheme: %w", err)
	}
	if err := v1alpha2.AddToScheme(scheme); err != nil {
		return fmt.Errorf("when building the scheme: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: metrics},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("when creating the manager: %w", err)
	}
	err = rebootstrap.Setup(mgr, rebootstrap.Options{
		Namespace:     namespace,
		MaxConcurrent: maxRollouts,
		Defaults:      bootstrap.Defaults(namespace),
	})
	if err != nil {
		return err
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("when running the manager: %w", err)
	}
	return nil
}
