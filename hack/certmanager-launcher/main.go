// Command certmanager-launcher is a TEST-ONLY launcher of cert-manager's own controller code.
//
// It is NOT cert-manager's controller or cainjector binary, and it is never shipped: the Go
// module proxy does not serve cert-manager's cmd/controller and cmd/cainjector submodules, so
// the project's end-to-end tests (e2e/certmanager_test.go) run this small program instead. It
// runs, unchanged, the controllers of the root module github.com/cert-manager/cert-manager
// (the version pinned in this folder's go.mod) against the API server of --kubeconfig:
//
//   - the Certificate controllers (pkg/controller/certificates/...): trigger, key manager,
//     request manager, issuing, readiness, revision manager;
//   - the CertificateRequest controllers of the SelfSigned and CA issuers and the approver
//     (pkg/controller/certificaterequests/{selfsigned,ca,approver});
//   - the Issuer and ClusterIssuer controllers (pkg/controller/{issuers,clusterissuers}), with
//     the SelfSigned and CA issuer implementations registered;
//   - the CA injector (pkg/controller/cainjector) on a controller-runtime manager, for
//     Mutating- and ValidatingWebhookConfigurations, reading CAs from Certificates and Secrets.
//
// Each controller registers itself with pkg/controller.Register; this program builds the
// shared ContextFactory (pkg/controller.NewContextFactory), constructs the enabled controllers
// from pkg/controller.Known(), starts the shared informers and runs them, as cert-manager's
// own controller command does. Leader election is off, metrics, health probes and webhooks are
// off; ACME, Vault and Venafi are not included. It runs until SIGTERM or SIGINT.
//
// It lives in its own Go module so that the project's go.mod does not grow cert-manager's
// controller dependency tree; build it with `hack/testbin.sh certmanager`, which puts it and
// cert-manager's CRDs under .cache/testbin/certmanager-<version>/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	// The controllers register themselves with pkg/controller when imported.
	certificaterequestsapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	certificaterequestsca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	certificaterequestsselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// The issuer implementations the Issuer controllers check (they register with pkg/issuer).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// controllers are the cert-manager controllers this launcher runs, by their registered names.
var controllers = []string{
	trigger.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	issuing.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
	certificaterequestsapprover.ControllerName,
	certificaterequestsselfsigned.CRControllerName,
	certificaterequestsca.CRControllerName,
	issuers.ControllerName,
	clusterissuers.ControllerName,
}

// workers per controller, as cert-manager's default (--concurrent-workers) is 5.
const workers = 5

type options struct {
	kubeconfig               string
	clusterResourceNamespace string
	injector                 bool
}

func main() {
	os.Exit(launch())
}

// launch parses the flags and runs until a signal; it returns the exit code.
func launch() int {
	var o options
	fs := flag.NewFlagSet("certmanager-launcher", flag.ExitOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (required: this launcher is for test clusters only)")
	fs.StringVar(&o.clusterResourceNamespace, "cluster-resource-namespace", "cert-manager",
		"namespace of the Secrets that ClusterIssuers refer to (cert-manager's --cluster-resource-namespace)")
	fs.BoolVar(&o.injector, "cainjector", true, "also run the CA injector")
	klog.InitFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "certmanager-launcher: TEST-ONLY launcher of cert-manager's own controllers "+
			"(certificates, certificaterequests, issuers, cainjector).\n\nUsage of %s:\n", os.Args[0])
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if o.kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "certmanager-launcher: --kubeconfig is required")
		return 2
	}
	logf.InitLogs()
	defer logf.FlushLogs()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := klog.Background().WithName("certmanager-launcher")
	ctx = logf.NewContext(ctx, log)
	ctrl.SetLogger(log)

	if err := run(ctx, o); err != nil {
		log.Error(err, "certmanager-launcher failed")
		return 1
	}
	log.Info("stopped")
	return 0
}

// run starts the controllers and the injector and waits until ctx ends or one of them fails.
func run(ctx context.Context, o options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	log := logf.FromContext(ctx)

	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:         o.kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: o.clusterResourceNamespace},
		CertificateOptions: controllerpkg.CertificateOptions{
			// cert-manager's defaults (internal/apis/config/controller/v1alpha1).
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return fmt.Errorf("when building cert-manager's controller context: %w", err)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	known := controllerpkg.Known()
	for _, name := range controllers {
		construct, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered with cert-manager's pkg/controller (registered: %s)",
				name, strings.Join(sortedKeys(known), ", "))
		}
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("when constructing controller %s: %w", name, err)
		}
		wg.Go(func() {
			log.Info("starting controller", "controller", name)
			if err := c.Run(workers, ctx); err != nil {
				cancel(fmt.Errorf("controller %s: %w", name, err))
			}
		})
	}

	// The controllers registered their informers with the shared factories while being
	// constructed; start them now (a Context built from the factory shares them).
	shared, err := factory.Build()
	if err != nil {
		return fmt.Errorf("when building the shared context: %w", err)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())

	if o.injector {
		mgr, err := newInjectorManager(o)
		if err != nil {
			return err
		}
		if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
			EnableCertificatesDataSource: true,
			EnabledReconcilersFor: map[string]bool{
				cainjector.MutatingWebhookConfigurationName:   true,
				cainjector.ValidatingWebhookConfigurationName: true,
			},
		}); err != nil {
			return fmt.Errorf("when registering the CA injectors: %w", err)
		}
		wg.Go(func() {
			log.Info("starting the CA injector")
			if err := mgr.Start(ctx); err != nil {
				cancel(fmt.Errorf("CA injector: %w", err))
			}
		})
	}

	<-ctx.Done()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// newInjectorManager is the controller-runtime manager cert-manager's cainjector command
// builds: cert-manager's and Kubernetes' types, no leader election, no metrics or probes.
func newInjectorManager(o options) (ctrl.Manager, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("when loading %s: %w", o.kubeconfig, err)
	}
	cfg = util.RestConfigWithUserAgent(cfg, "cainjector")
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, cmscheme.AddToScheme, apiextensionsv1.AddToScheme, admissionregistrationv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("when building the CA injector's scheme: %w", err)
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{ReaderFailOnMissingInformer: true},
		// As cert-manager's cainjector: Secrets are watched as metadata only and read from the
		// API server, never cached in full.
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LeaderElection:         false,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("when creating the CA injector's manager: %w", err)
	}
	return mgr, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
