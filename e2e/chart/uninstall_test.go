package chart

import (
	"context"
	"strconv"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook"
)

// stayGoneFor is how long the webhook configuration must stay deleted after an uninstall: the
// injector reacts to the deletion within milliseconds (a watch event), so a few seconds show
// it does not bring the object back.
const stayGoneFor = 5 * time.Second

// uninstallWithRunningInjector: install the chart pointing at an osm-injector that runs
// outside the cluster (osm.webhook.url, as the demo does), with that injector running and
// writing its caBundle; helm uninstall while it keeps running; the webhook configuration must
// be gone and stay gone, and a plain helm install right after must work (before, the injector
// re-created the object within a second and the install failed with "exists and cannot be
// imported into the current release").
func (e *env) uninstallWithRunningInjector(ctx context.Context, t *testing.T) {
	t.Helper()
	port, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	health, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := "https://127.0.0.1:" + strconv.Itoa(port)
	install := `helm install osm ` + chartDir + ` -n osm-system --set=osm.webhook.url=` + url + `,osm.injector.replicas=0`
	e.run(ctx, t, install)

	// The injector as the demo runs it: by hand, with its defaults (it may create the
	// configuration when there is none at start).
	var logs framework.SyncBuffer
	o := app.DefaultOptions()
	o.RESTConfig = e.cluster.RESTConfig
	o.WebhookHost, o.WebhookPort, o.WebhookURL = "127.0.0.1", port, url
	o.MetricsBindAddress, o.HealthProbeBindAddress = "0", "127.0.0.1:"+strconv.Itoa(health)
	o.LeaderElect = false
	o.ShutdownDelay = 0
	o.Logger = zap.New(zap.WriteTo(&logs), zap.UseDevMode(true)).WithName("osm-injector")
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, o) }()
	stopped := false
	stopInjector := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the injector ended with an error: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("the injector did not stop within a minute")
		}
	}
	defer func() {
		stopInjector()
		if t.Failed() {
			t.Logf("the injector's log:\n%s", logs.String())
		}
	}()

	e.waitForCABundle(ctx, t, "the running injector to write its caBundle into the chart's webhook configuration")

	e.run(ctx, t, `helm uninstall osm -n osm-system`)
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	deadline := time.Now().Add(stayGoneFor)
	for time.Now().Before(deadline) {
		err := e.client.Get(ctx, client.ObjectKey{Name: webhook.ConfigurationName}, &mwc)
		if !apierrors.IsNotFound(err) {
			t.Fatalf("after helm uninstall, with the injector still running, the webhook configuration is back "+
				"(err %v; managed by %v)", err, managers(&mwc))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A reinstall right after works, and the injector, still running, patches the new object.
	e.run(ctx, t, install)
	e.waitForCABundle(ctx, t, "the injector to write its caBundle into the reinstalled webhook configuration")

	stopInjector()
	e.run(ctx, t, `helm uninstall osm -n osm-system`)
}

// waitForCABundle waits until the webhook configuration carries a caBundle.
func (e *env) waitForCABundle(ctx context.Context, t *testing.T, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		err := e.client.Get(ctx, client.ObjectKey{Name: webhook.ConfigurationName}, &mwc)
		if err == nil && len(mwc.Webhooks) == 1 && len(mwc.Webhooks[0].ClientConfig.CABundle) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func managers(o client.Object) []string {
	var out []string
	for _, m := range o.GetManagedFields() {
		out = append(out, m.Manager)
	}
	return out
}
