package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// Defaults of the flags that are not someone else's.
const (
	DefaultMeshName               = "osm"
	DefaultWebhookHost            = "0.0.0.0"
	DefaultWebhookPort            = 9443
	DefaultFailurePolicy          = admissionregistrationv1.Ignore
	DefaultTimeoutSeconds         = 10
	DefaultMetricsBindAddress     = ":8080"
	DefaultHealthProbeBindAddress = ":8081"
	DefaultMaxConcurrentRollouts  = rebootstrap.DefaultMaxConcurrent
	DefaultKubeAPIQPS             = 50
	DefaultKubeAPIBurst           = 100
	DefaultConfigMapGCGrace       = 5 * time.Minute
	// DefaultShutdownDelay: long enough for the endpoints controller and every kube-proxy to
	// stop sending the replica new connections once its /readyz fails (a few seconds in a
	// healthy cluster; the chart's readinessProbe fails it within one probe period as well).
	DefaultShutdownDelay = 5 * time.Second
	// DefaultGracefulShutdownTimeout bounds the drain after the delay (admissions take
	// milliseconds; the webhook timeout, 10s by default, is the longest one may take).
	DefaultGracefulShutdownTimeout = 15 * time.Second
	// LeaderElectionID is the Lease the controllers' leader holds in the control-plane namespace.
	LeaderElectionID = "osm-injector"

	// CertProviderSelf (--certificate-provider=self, the default): the injector keeps its own
	// CA and serving certificate (certs.SelfSigned) and writes the webhook's caBundle.
	CertProviderSelf = "self"
	// CertProviderCertManager (--certificate-provider=cert-manager): cert-manager issues the
	// serving certificate into a Secret the injector serves (certs.SecretProvider with
	// --cert-secret-name, or certs.FileProvider with --cert-dir for the Secret mounted as a
	// volume); cert-manager's cainjector writes the caBundle, from the Certificate the webhook
	// configuration names in cert-manager.io/inject-ca-from.
	CertProviderCertManager = "cert-manager"
	// DefaultCertManagerCertificate is the chart's Certificate of the serving certificate.
	DefaultCertManagerCertificate = "osm-injector"
)

// envoyLogLevels are the levels Envoy's --log-level accepts.
var envoyLogLevels = []string{"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}

// Options are the injector's settings; the command fills them from flags.
type Options struct {
	// Kubeconfig is a kubeconfig file; empty means in-cluster (or $KUBECONFIG).
	Kubeconfig string
	// RESTConfig, when set, is used instead of Kubeconfig (programs that embed the injector).
	RESTConfig *rest.Config

	Namespace      string
	MeshConfigName string
	MeshName       string

	WebhookHost    string
	WebhookPort    int
	WebhookURL     string
	FailurePolicy  string
	TimeoutSeconds int
	// CreateWebhookConfiguration lets the injector create its MutatingWebhookConfiguration
	// when there is none at start. The chart turns it off: it creates the object itself, so
	// that uninstalling removes it, and the injector only patches it (webhook.ConfigReconciler).
	CreateWebhookConfiguration bool
	// ShutdownDelay is how long the injector keeps serving admissions after SIGTERM, while
	// /readyz fails, before it stops (see Run).
	ShutdownDelay time.Duration
	// GracefulShutdownTimeout bounds how long stopping may take after ShutdownDelay: in-flight
	// admissions finish, the controllers stop, the leader Lease is released.
	GracefulShutdownTimeout time.Duration

	MetricsBindAddress     string
	HealthProbeBindAddress string
	// PprofBindAddress serves Go's /debug/pprof (heap, CPU profiles) when set; off by default.
	PprofBindAddress string
	LeaderElect      bool

	MaxConcurrentRollouts int
	// KubeAPIQPS and KubeAPIBurst bound the injector's API requests (stamps, status, ConfigMaps).
	KubeAPIQPS       float64
	KubeAPIBurst     int
	ConfigMapGCGrace time.Duration

	EnvoyImage    string
	InitImage     string
	EnvoyLogLevel string
	// EnvoyResources is the envoy container's resources as JSON (a ResourceRequirements, as
	// the chart's osm.sidecar.resources renders it); empty means the built-in defaults.
	EnvoyResources string
	// InitResources is the same for the osm-init container.
	InitResources string
	// EnvoyConcurrency is Envoy's worker threads in every sidecar, unless a pod or namespace
	// annotation (inject.AnnotationProxyConcurrency) says otherwise.
	EnvoyConcurrency int
	// The mesh-wide redirect lists, comma-separated as the flags take them: ports and ranges
	// kept out of the redirect, and the only ranges redirected. Pod and namespace annotations
	// add to them.
	OutboundPortExclusionList    string
	InboundPortExclusionList     string
	OutboundIPRangeExclusionList string
	OutboundIPRangeInclusionList string

	// CertValidity is the serving certificate's lifetime (CertProviderSelf).
	CertValidity time.Duration
	// CertProviderKind is CertProviderSelf or CertProviderCertManager (--certificate-provider).
	CertProviderKind string
	// CertSecretName is the cert-manager Certificate's Secret, read through the API
	// (CertProviderCertManager; --cert-secret-name).
	CertSecretName string
	// CertDir is a folder holding tls.crt and tls.key, such as the mounted Secret
	// (CertProviderCertManager; --cert-dir).
	CertDir string
	// CertManagerCertificate is the Certificate, in Namespace, whose CA cert-manager's
	// cainjector writes into the webhook configuration (CertProviderCertManager).
	CertManagerCertificate string
	// CertProvider, when set, replaces the self-managed certificates (tests, other issuers).
	CertProvider certs.Provider

	// Logger is the base logger; the zero value means controller-runtime's global one.
	Logger logr.Logger
}

// DefaultOptions are the flag defaults.
func DefaultOptions() Options {
	proxy := inject.DefaultProxyConfig()
	return Options{
		Namespace:                  bootstrap.DefaultNamespace,
		MeshConfigName:             bootstrap.DefaultMeshConfigName,
		MeshName:                   DefaultMeshName,
		WebhookHost:                DefaultWebhookHost,
		WebhookPort:                DefaultWebhookPort,
		FailurePolicy:              string(DefaultFailurePolicy),
		TimeoutSeconds:             DefaultTimeoutSeconds,
		CreateWebhookConfiguration: true,
		ShutdownDelay:              DefaultShutdownDelay,
		GracefulShutdownTimeout:    DefaultGracefulShutdownTimeout,
		MetricsBindAddress:         DefaultMetricsBindAddress,
		HealthProbeBindAddress:     DefaultHealthProbeBindAddress,
		MaxConcurrentRollouts:      DefaultMaxConcurrentRollouts,
		KubeAPIQPS:                 DefaultKubeAPIQPS,
		KubeAPIBurst:               DefaultKubeAPIBurst,
		ConfigMapGCGrace:           DefaultConfigMapGCGrace,
		EnvoyImage:                 proxy.EnvoyImage,
		InitImage:                  proxy.InitImage,
		EnvoyLogLevel:              proxy.LogLevel,
		EnvoyConcurrency:           inject.DefaultConcurrency,
		CertValidity:               certs.DefaultCertValidity,
		CertProviderKind:           CertProviderSelf,
		CertManagerCertificate:     DefaultCertManagerCertificate,
	}
}

// Validate reports every bad setting, each naming its flag.
func (o *Options) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{flag}, args...)...))
	}
	if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
		bad("osm-namespace", "%q is not a namespace name: %s", o.Namespace, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Subdomain(o.MeshConfigName); len(msgs) > 0 {
		bad("mesh-config-name", "%q is not an object name: %s", o.MeshConfigName, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Label(o.MeshName); len(msgs) > 0 {
		bad("mesh-name", "%q is not a DNS-1123 label: %s", o.MeshName, strings.Join(msgs, "; "))
	}
	if o.WebhookHost != "" && net.ParseIP(o.WebhookHost) == nil && len(validation.IsDNS1123Subdomain(o.WebhookHost)) > 0 {
		bad("webhook-host", "%q is neither an IP address nor a host name", o.WebhookHost)
	}
	if o.WebhookPort < 1 || o.WebhookPort > 65535 {
		bad("webhook-port", "%d is not a port (1..65535)", o.WebhookPort)
	}
	if o.WebhookURL != "" {
		if _, err := webhook.EndpointURL(o.WebhookURL); err != nil {
			bad("webhook-url", "%v", err)
		}
	}
	if _, err := o.failurePolicy(); err != nil {
		bad("webhook-failure-policy", "%v", err)
	}
	if o.TimeoutSeconds < 1 || o.TimeoutSeconds > 30 {
		bad("webhook-timeout-seconds", "%d is out of range: the API server accepts 1 to 30 seconds", o.TimeoutSeconds)
	}
	if o.KubeAPIQPS <= 0 {
		bad("kube-api-qps", "%v: must be a positive number of requests per second", o.KubeAPIQPS)
	}
	if o.KubeAPIBurst < 1 {
		bad("kube-api-burst", "%d: must be at least 1", o.KubeAPIBurst)
	}
	if o.MaxConcurrentRollouts < 1 {
		bad("max-concurrent-rollouts", "%d: at least one rollout must be allowed", o.MaxConcurrentRollouts)
	}
	if o.ShutdownDelay < 0 {
		bad("shutdown-delay", "%s: must be zero (stop at once) or positive (such as 5s)", o.ShutdownDelay)
	}
	if o.GracefulShutdownTimeout <= 0 {
		bad("graceful-shutdown-timeout", "%s: must be positive (such as 15s)", o.GracefulShutdownTimeout)
	}
	if o.ConfigMapGCGrace <= 0 {
		bad("configmap-gc-grace", "%s: the grace period must be positive (such as 5m)", o.ConfigMapGCGrace)
	}
	if o.CertValidity <= 0 {
		bad("cert-validity", "%s: the certificate validity must be positive (such as 8760h)", o.CertValidity)
	}
	errs = append(errs, o.validateCertProvider()...)
	if strings.TrimSpace(o.EnvoyImage) == "" {
		bad("envoy-image", "an image is required")
	}
	if strings.TrimSpace(o.InitImage) == "" {
		bad("init-image", "an image is required")
	}
	if _, err := parseResources(o.EnvoyResources); err != nil {
		bad("envoy-resources", "%q: %v", o.EnvoyResources, err)
	}
	if _, err := parseResources(o.InitResources); err != nil {
		bad("init-resources", "%q: %v", o.InitResources, err)
	}
	if !slices.Contains(envoyLogLevels, o.EnvoyLogLevel) {
		bad("envoy-log-level", "%q is not one of Envoy's levels (%s)", o.EnvoyLogLevel, strings.Join(envoyLogLevels, ", "))
	}
	if _, err := inject.ParseConcurrency(strconv.Itoa(o.EnvoyConcurrency)); err != nil {
		bad("envoy-concurrency", "%d: %v", o.EnvoyConcurrency, err)
	}
	for _, l := range o.trafficLists() {
		if err := l.check(); err != nil {
			bad(l.flag, "%v", err)
		}
	}
	return errors.Join(errs...)
}

// validateCertProvider checks --certificate-provider and the flags that go with it.
func (o *Options) validateCertProvider() []error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: "+format, append([]any{flag}, args...)...))
	}
	switch o.CertProviderKind {
	case CertProviderSelf:
		for _, f := range [][2]string{{"cert-secret-name", o.CertSecretName}, {"cert-dir", o.CertDir}} {
			if f[1] != "" {
				bad(f[0], "is only used with --certificate-provider=%s (the self-signed provider keeps its own Secret)",
					CertProviderCertManager)
			}
		}
	case CertProviderCertManager:
		switch {
		case o.CertSecretName == "" && o.CertDir == "":
			bad("certificate-provider", "%s needs where cert-manager puts the certificate: --cert-secret-name "+
				"(the Certificate's Secret, watched through the API) or --cert-dir (that Secret mounted as a volume)",
				CertProviderCertManager)
		case o.CertSecretName != "" && o.CertDir != "":
			bad("cert-dir", "give either --cert-dir or --cert-secret-name, not both")
		case o.CertSecretName != "":
			if msgs := validation.IsDNS1123Subdomain(o.CertSecretName); len(msgs) > 0 {
				bad("cert-secret-name", "%q is not a Secret name: %s", o.CertSecretName, strings.Join(msgs, "; "))
			}
		}
		if msgs := validation.IsDNS1123Subdomain(o.CertManagerCertificate); len(msgs) > 0 {
			bad("cert-manager-certificate", "%q is not a Certificate name: %s", o.CertManagerCertificate, strings.Join(msgs, "; "))
		}
	default:
		bad("certificate-provider", "%q is not a certificate provider: use %s or %s",
			o.CertProviderKind, CertProviderSelf, CertProviderCertManager)
	}
	return errs
}

// failurePolicy parses FailurePolicy (Ignore or Fail, in any case).
func (o *Options) failurePolicy() (admissionregistrationv1.FailurePolicyType, error) {
	switch strings.ToLower(o.FailurePolicy) {
	case "ignore":
		return admissionregistrationv1.Ignore, nil
	case "fail":
		return admissionregistrationv1.Fail, nil
	}
	return "", fmt.Errorf("%q is not a failure policy: use Ignore or Fail", o.FailurePolicy)
}

// urlHost is the host of WebhookURL, or "".
func (o *Options) urlHost() string {
	if o.WebhookURL == "" {
		return ""
	}
	u, err := url.Parse(o.WebhookURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
