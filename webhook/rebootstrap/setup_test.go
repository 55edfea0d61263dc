package rebootstrap

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Namespace: "osm-system", MeshConfigName: "osm-mesh-config", MaxConcurrent: DefaultMaxConcurrent,
		Defaults: bootstrap.Defaults("osm-system"), SettleDelay: DefaultSettleDelay,
	}
	if o.HealReady != nil {
		t.Error("HealReady has a default")
	}
	o.HealReady = nil
	if o.Namespace != want.Namespace || o.MeshConfigName != want.MeshConfigName || o.MaxConcurrent != want.MaxConcurrent ||
		o.Defaults != want.Defaults || o.SettleDelay != want.SettleDelay || o.Bootstraps != want.Bootstraps {
		t.Errorf("defaults %+v, want %+v", o, want)
	}
	o, err = Options{Namespace: "mesh", MaxConcurrent: 7, SettleDelay: -time.Second}.withDefaults()
	if err != nil || o.MaxConcurrent != 7 || o.SettleDelay != 0 || o.Defaults.Address != "jaeger.mesh.svc.cluster.local" {
		t.Errorf("options %+v, %v", o, err)
	}
	if _, err := (Options{MaxConcurrent: -1}).withDefaults(); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("a negative bound: %v", err)
	}
}

func newManager(t *testing.T, withMeshConfig bool) ctrl.Manager {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if withMeshConfig {
		if err := v1alpha2.AddToScheme(scheme); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing listens there: the manager is built, never started, and Setup must refuse
	// before it asks the API server anything.
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

// TestSetupRefuses checks the refusals that come before any API call; the e2e tests run
// Setup against a real API server.
func TestSetupRefuses(t *testing.T) {
	err := Setup(newManager(t, false), Options{})
	if err == nil || !strings.Contains(err.Error(), "v1alpha2.AddToScheme") {
		t.Errorf("Setup without the MeshConfig types: %v", err)
	}
	if err := Setup(newManager(t, true), Options{MaxConcurrent: -2}); err == nil {
		t.Errorf("Setup with a negative bound succeeded")
	}
}
