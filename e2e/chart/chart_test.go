// Package chart installs the osm Helm chart with the real helm CLI into a real kube-apiserver
// and checks what users rely on across install, runtime changes, upgrade and uninstall.
package chart

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook"
)

const (
	// helmVersion is the helm hack/testbin.sh builds into .cache/tools/helm-<version>.
	helmVersion = "v3.22.0"
	namespace   = "osm-system"
	chartDir    = "manifests/charts/osm"
	testTimeout = 3 * time.Minute
)

type env struct {
	cluster *framework.Cluster
	client  client.Client
	helm    string
	root    string
}

func setUp(t *testing.T) *env {
	t.Helper()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	helm := filepath.Join(root, ".cache", "tools", "helm-"+helmVersion, "helm")
	if _, err := os.Stat(helm); err != nil {
		msg := fmt.Sprintf("%s is missing: run `make testbin` (or hack/testbin.sh helm), or set %s=1 to skip e2e tests",
			helm, framework.EnvSkip)
		if os.Getenv(framework.EnvSkip) == "1" || os.Getenv(framework.EnvSkip) == "true" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	c := framework.Start(t, framework.Options{})
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cl, err := c.ControllerClient(scheme)
	if err != nil {
		t.Fatal(err)
	}
	return &env{cluster: c, client: cl, helm: helm, root: root}
}

// TestChartLifecycle: install with the guide's flags, change tracing at runtime with the
// guide's kubectl patch, let "the injector" write its webhook configuration, upgrade with the
// chart's default values, and uninstall. Runtime state must survive the upgrade; nothing of the
// mesh but the CRD may survive the uninstall, not even while an injector keeps running.
func TestChartLifecycle(t *testing.T) {
	e := setUp(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	e.run(ctx, t, `helm install osm `+chartDir+` -n osm-system --create-namespace --set=osm.deployJaeger=true,osm.tracing.enable=true`)

	var mc v1alpha2.MeshConfig
	e.get(ctx, t, client.ObjectKey{Namespace: namespace, Name: "osm-mesh-config"}, &mc)
	if tr := mc.Spec.Observability.Tracing; tr.Enable == nil || !*tr.Enable || tr.Address != "jaeger.osm-system.svc.cluster.local" {
		t.Errorf("installed MeshConfig tracing = %+v", tr)
	}
	// The guide's troubleshooting step 4.
	if out := e.run(ctx, t, `kubectl get services -n osm-system -l app=jaeger`); !strings.Contains(out, "9411/TCP") {
		t.Errorf("kubectl get services -l app=jaeger:\n%s", out)
	}
	if out := e.run(ctx, t, `kubectl get deployments -n osm-system -l app=jaeger`); !strings.Contains(out, "jaeger") {
		t.Errorf("kubectl get deployments -l app=jaeger:\n%s", out)
	}

	// What osm-injector does at run time: apply its webhook configuration, with its CA bundle.
	caBundle := e.applyAsInjector(ctx, t)

	// A user changes tracing at runtime (the guide's command, plus a sampling change).
	e.run(ctx, t, `kubectl patch meshconfig osm-mesh-config -n osm-system -p '{"spec":{"observability":{"tracing":{"enable":true,"address": "collector.tracing.svc.cluster.local","port":9412,"endpoint":"/api/v2/spans"}}}}'  --type=merge`)
	e.run(ctx, t, `kubectl patch meshconfig osm-mesh-config -n osm-system --type=merge -p '{"spec":{"observability":{"tracing":{"sampling":10}}}}'`)

	// An upgrade back to the chart's defaults (tracing off): the values must not clobber the
	// runtime settings.
	out := e.run(ctx, t, `helm upgrade osm `+chartDir+` -n osm-system --reset-values`)
	if !strings.Contains(out, "kept its settings") {
		t.Errorf("the upgrade's notes do not say the MeshConfig was kept:\n%s", out)
	}
	e.get(ctx, t, client.ObjectKey{Namespace: namespace, Name: "osm-mesh-config"}, &mc)
	tr := mc.Spec.Observability.Tracing
	if tr.Enable == nil || !*tr.Enable || tr.Address != "collector.tracing.svc.cluster.local" ||
		tr.Port == nil || *tr.Port != 9412 || tr.Sampling == nil || *tr.Sampling != 10 {
		t.Errorf("helm upgrade clobbered the runtime MeshConfig: %+v", tr)
	}
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	e.get(ctx, t, client.ObjectKey{Name: webhook.ConfigurationName}, &mwc)
	if len(mwc.Webhooks) != 1 {
		t.Fatalf("after the upgrade the webhook configuration has %d webhooks, want 1: %+v", len(mwc.Webhooks), mwc.Webhooks)
	}
	if got := string(mwc.Webhooks[0].ClientConfig.CABundle); got != caBundle {
		t.Errorf("helm upgrade changed the injector's caBundle to %q", got)
	}
	// The injector applies again after the upgrade (it watches the object): no conflict.
	e.applyAsInjector(ctx, t)

	e.run(ctx, t, `helm uninstall osm -n osm-system`)
	err := e.client.Get(ctx, client.ObjectKey{Name: webhook.ConfigurationName}, &mwc)
	if !apierrors.IsNotFound(err) {
		t.Errorf("the webhook configuration outlives the uninstall (err %v)", err)
	}
	err = e.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "osm-mesh-config"}, &mc)
	if !apierrors.IsNotFound(err) {
		t.Errorf("the MeshConfig outlives the uninstall (err %v)", err)
	}
	// Helm never deletes CRDs it installed from crds/.
	e.run(ctx, t, `kubectl get crd meshconfigs.config.openservicemesh.io`)

	// Uninstall while an injector keeps running, then install again at once.
	e.uninstallWithRunningInjector(ctx, t)
}

// applyAsInjector applies the webhook configuration as osm-injector does (server-side apply,
// forced, field owner osm-injector) and returns the CA bundle it wrote.
func (e *env) applyAsInjector(ctx context.Context, t *testing.T) string {
	t.Helper()
	const bundle = "-----BEGIN CERTIFICATE-----\nnot a real certificate, the API server does not parse it\n-----END CERTIFICATE-----\n"
	cfg, err := webhook.Configuration(webhook.ConfigOptions{
		ControlPlaneNamespace: namespace,
		MeshName:              "osm",
		FailurePolicy:         admissionregistrationv1.Ignore,
		TimeoutSeconds:        10,
		CABundle:              []byte(bundle),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.Apply(ctx, cfg, client.FieldOwner(webhook.FieldOwner), client.ForceOwnership); err != nil {
		t.Fatalf("applying the webhook configuration as osm-injector: %v", err)
	}
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	e.get(ctx, t, client.ObjectKey{Name: webhook.ConfigurationName}, &mwc)
	if len(mwc.Webhooks) != 1 {
		got, _ := json.MarshalIndent(mwc.Webhooks, "", "  ")
		t.Fatalf("the chart's and the injector's webhook configurations do not merge into one webhook:\n%s", got)
	}
	return bundle
}

func (e *env) get(ctx context.Context, t *testing.T, key client.ObjectKey, obj client.Object) {
	t.Helper()
	if err := e.client.Get(ctx, key, obj); err != nil {
		t.Fatalf("getting %T %s: %v", obj, key, err)
	}
}

// run runs a command line with bash in the repository root, helm and kubectl on PATH and the
// cluster's kubeconfig, and returns its output. A failure fails the test.
func (e *env) run(ctx context.Context, t *testing.T, line string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir = e.root
	path := filepath.Dir(e.helm) + string(os.PathListSeparator) + filepath.Dir(e.cluster.Binaries.Kubectl) +
		string(os.PathListSeparator) + os.Getenv("PATH")
	cmd.Env = append(os.Environ(), "PATH="+path, "KUBECONFIG="+e.cluster.KubeconfigPath,
		// Keep helm's caches and settings inside the test.
		"HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	t.Logf("$ %s\n%s", line, out)
	return string(out)
}
