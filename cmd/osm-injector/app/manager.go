package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// readyTimeout bounds the informer-sync part of /readyz.
const readyTimeout = 2 * time.Second

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, admissionregistrationv1.AddToScheme,
		coordinationv1.AddToScheme, discoveryv1.AddToScheme, v1alpha2.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("when building the scheme: %w", err)
		}
	}
	return s, nil
}

func (o *Options) restConfig() (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	switch {
	case o.RESTConfig != nil:
		cfg = rest.CopyConfig(o.RESTConfig)
	case o.Kubeconfig != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	default:
		cfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("when loading the client configuration: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.KubeAPIQPS), o.KubeAPIBurst
	cfg.UserAgent = "osm-injector"
	return cfg, nil
}

func (o *Options) certProvider(cfg *rest.Config, log logr.Logger) (certs.Provider, error) {
	if o.CertProvider != nil {
		return o.CertProvider, nil
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("when making the certificate provider's client: %w", err)
	}
	if o.CertProviderKind == CertProviderCertManager {
		return o.certManagerProvider(cs, log)
	}
	co := certs.Options{
		Namespace:    o.Namespace,
		DNSNames:     certs.ServiceDNSNames(webhook.ServiceName, o.Namespace),
		CertValidity: o.CertValidity,
	}
	if host := o.urlHost(); host != "" {
		if ip := net.ParseIP(host); ip != nil {
			co.IPAddresses = []net.IP{ip}
		} else {
			co.DNSNames = append(co.DNSNames, host)
		}
	}
	p, err := certs.NewSelfSigned(cs, co)
	if err != nil {
		return nil, fmt.Errorf("when making the certificate provider: %w", err)
	}
	return p.WithLogger(log.WithName("certs")), nil
}

// certManagerProvider serves the certificate cert-manager issues: from its Secret through the
// API (--cert-secret-name), or from the mounted Secret (--cert-dir).
func (o *Options) certManagerProvider(cs kubernetes.Interface, log logr.Logger) (certs.Provider, error) {
	if o.CertDir != "" {
		p, err := certs.NewFileProvider(certs.FileOptions{Dir: o.CertDir})
		if err != nil {
			return nil, fmt.Errorf("when making the certificate provider: %w", err)
		}
		return p.WithLogger(log.WithName("certs")), nil
	}
	p, err := certs.NewSecretProvider(cs, o.Namespace, o.CertSecretName, nil)
	if err != nil {
		return nil, fmt.Errorf("when making the certificate provider: %w", err)
	}
	return p.WithLogger(log.WithName("certs")), nil
}

// managerOptions: caches restricted to what the injector reads (metadata only where the
// full object is not needed; pods are read from the re-bootstrap controller's cache, see
// setupControllers), the webhook server on the provider's certificate, leader
// election on Lease osm-injector.
func (o *Options) managerOptions(scheme *runtime.Scheme, provider certs.Provider, log logr.Logger) ctrl.Options {
	managed := labels.SelectorFromSet(labels.Set{bootstrap.ManagedByLabel: bootstrap.ManagedByValue})
	return ctrl.Options{
		Scheme: scheme,
		Logger: log,
		Cache: cache.Options{
			// Managed fields and last-applied copies dropped, repeated strings shared: with
			// thousands of bootstrap ConfigMaps their metadata is much of this cache.
			DefaultTransform: rebootstrap.TrimMeta,
			ByObject: map[client.Object]cache.ByObject{
				// Only the bootstrap ConfigMaps, never every ConfigMap of the cluster.
				&corev1.ConfigMap{}: {Label: managed},
				&v1alpha2.MeshConfig{}: {
					Namespaces: map[string]cache.Config{o.Namespace: {}},
					Field:      fields.OneTermEqualSelector("metadata.name", o.MeshConfigName),
				},
				&admissionregistrationv1.MutatingWebhookConfiguration{}: {
					Field: fields.OneTermEqualSelector("metadata.name", webhook.ConfigurationName),
				},
			},
		},
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:        o.HealthProbeBindAddress,
		PprofBindAddress:              o.PprofBindAddress,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       o.Namespace,
		LeaderElectionReleaseOnCancel: true,
		// After --shutdown-delay (see shutdown): in-flight admissions and the controllers get
		// this long to finish.
		GracefulShutdownTimeout: ptr.To(o.GracefulShutdownTimeout),
		// Run may be called more than once in a process (tests restart the injector).
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		WebhookServer: crwebhook.NewServer(crwebhook.Options{
			Host: o.WebhookHost,
			Port: o.WebhookPort,
			TLSOpts: []func(*tls.Config){func(c *tls.Config) {
				// The certificate comes from the provider, never from files (CertDir is unused
				// when GetCertificate is set).
				c.GetCertificate = provider.GetCertificate
				c.MinVersion = tls.VersionTLS12
				// HTTP/1.1 only, as kubebuilder advises (HTTP/2 stream-reset attacks).
				c.NextProtos = []string{"http/1.1"}
			}},
		}),
	}
}

// setupProbes: /healthz answers while the process lives; /readyz when the webhook server
// accepts TLS connections, a certificate is loaded and the informer caches are synced, and
// not any more once the replica is shutting down.
func setupProbes(mgr manager.Manager, provider certs.Provider, stopping *shutdown) error {
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("when adding the health check: %w", err)
	}
	checks := map[string]healthz.Checker{
		"webhook-server": mgr.GetWebhookServer().StartedChecker(),
		"certificate":    func(*http.Request) error { return provider.Ready() },
		"shutdown":       stopping.readyCheck,
		"informers": func(req *http.Request) error {
			ctx, cancel := context.WithTimeout(req.Context(), readyTimeout)
			defer cancel()
			if !mgr.GetCache().WaitForCacheSync(ctx) {
				return errors.New("the informer caches are not synced yet")
			}
			return nil
		},
	}
	for name, check := range checks {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return fmt.Errorf("when adding the readiness check %s: %w", name, err)
		}
	}
	return nil
}

// warmInformers registers the informers the admission path reads, so they start with the
// manager rather than on the first request. A missing MeshConfig CRD stops the injector here.
func warmInformers(ctx context.Context, mgr manager.Manager) error {
	objs := []client.Object{metadataOf("Namespace"), metadataOf("ConfigMap"), &v1alpha2.MeshConfig{}}
	for _, obj := range objs {
		if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("when preparing the informer for %T (is the MeshConfig CRD installed?): %w", obj, err)
		}
	}
	return nil
}

func metadataOf(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}
