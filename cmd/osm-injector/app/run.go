package app

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
	"github.com/osm-tracing/osm-tracing/webhook/gc"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// maxKnownTTL bounds how long the admission path trusts its own memory of a ConfigMap.
const maxKnownTTL = time.Minute

// Run runs the injector until ctx ends: the webhook server (every replica), the certificate
// provider (every replica) and the controllers (the leader, with LeaderElect). It validates o
// first. It may be called again in the same process once it has returned.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("when checking the options: %w", err)
	}
	log := o.Logger
	if log.GetSink() == nil {
		log = ctrl.Log.WithName("osm-injector")
	}
	cfg, err := o.restConfig()
	if err != nil {
		return err
	}
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	serverVersion := readServerVersion(cfg, log)
	provider, err := o.certProvider(cfg, log)
	if err != nil {
		return err
	}
	stopping := newShutdown(o.ShutdownDelay, log)
	mgr, err := ctrl.NewManager(cfg, o.managerOptions(scheme, provider, log))
	if err != nil {
		return fmt.Errorf("when creating the controller manager: %w", err)
	}
	if err := mgr.Add(everyReplica{provider}); err != nil {
		return fmt.Errorf("when adding the certificate provider: %w", err)
	}
	// One memo of generated bootstraps for the process: the admission path and the
	// re-bootstrap controller generate the same bootstraps for the same settings.
	bootstraps := bootstrap.NewCache(bootstrap.DefaultCacheSize)
	if err := setupWebhook(mgr, o, bootstraps, serverVersion, stopping, log); err != nil {
		return err
	}
	if err := setupControllers(mgr, o, provider, bootstraps, log); err != nil {
		return err
	}
	if err := setupProbes(mgr, provider, stopping); err != nil {
		return err
	}
	if err := warmInformers(ctx, mgr); err != nil {
		return err
	}
	policy, _ := o.failurePolicy()
	log.Info("starting osm-injector", "version", versionString(), "namespace", o.Namespace, "meshConfig", o.MeshConfigName,
		"webhook", fmt.Sprintf("%s:%d", o.WebhookHost, o.WebhookPort), "webhookURL", o.WebhookURL,
		"failurePolicy", policy, "leaderElect", o.LeaderElect, "configMapGCGrace", o.ConfigMapGCGrace.String(),
		"serverVersion", serverVersion, "shutdownDelay", o.ShutdownDelay.String(), "goMemLimit", goMemLimit())
	// The manager runs until ShutdownDelay after ctx ends (see shutdown).
	mgrCtx, stop := stopping.context(ctx)
	defer stop()
	if err := mgr.Start(mgrCtx); err != nil {
		return fmt.Errorf("when running the controller manager: %w", err)
	}
	return nil
}

// setupWebhook registers the admission handler at webhook.Path. serverVersion is the API
// server's version ("" when unknown: not checked).
func setupWebhook(mgr manager.Manager, o Options, bootstraps *bootstrap.Cache, serverVersion string, stopping *shutdown, log logr.Logger) error {
	policy, _ := o.failurePolicy()
	h, err := webhook.NewHandler(webhook.HandlerOptions{
		Cache:                 mgr.GetCache(),
		APIReader:             mgr.GetAPIReader(),
		Writer:                mgr.GetClient(),
		ControlPlaneNamespace: o.Namespace,
		MeshConfigName:        o.MeshConfigName,
		Proxy:                 o.proxyConfig(),
		FailurePolicy:         policy,
		KnownTTL:              min(o.ConfigMapGCGrace/2, maxKnownTTL),
		Bootstraps:            bootstraps,
		ServerVersion:         serverVersion,
		Log:                   log.WithName("admission"),
	})
	if err != nil {
		return err
	}
	// RecoverPanic is on (it is controller-runtime's default; said here so it stays so): the
	// Handler recovers its own panics first, this is the last line.
	mgr.GetWebhookServer().Register(webhook.Path, stopping.handler(&admission.Webhook{Handler: h, RecoverPanic: ptr.To(true)}))
	return nil
}

// setupControllers registers the leader-elected controllers.
func setupControllers(mgr manager.Manager, o Options, provider certs.Provider, bootstraps *bootstrap.Cache, log logr.Logger) error {
	policy, _ := o.failurePolicy()
	var injectCAFrom string
	if o.CertProviderKind == CertProviderCertManager {
		injectCAFrom = o.Namespace + "/" + o.CertManagerCertificate
	}
	cfgRec := &webhook.ConfigReconciler{
		Client: mgr.GetClient(),
		Options: webhook.ConfigOptions{
			ControlPlaneNamespace: o.Namespace,
			MeshName:              o.MeshName,
			URL:                   o.WebhookURL,
			FailurePolicy:         policy,
			TimeoutSeconds:        int32(o.TimeoutSeconds), //nolint:gosec // G115: Validate bounds it to 1..30.
			InjectCAFrom:          injectCAFrom,
		},
		Certs:  provider,
		Log:    log.WithName("webhook-configuration"),
		Create: o.CreateWebhookConfiguration,
	}
	if err := cfgRec.SetupWithManager(mgr); err != nil {
		return err
	}
	statusRec := &webhook.MeshConfigStatusReconciler{
		Client:   mgr.GetClient(),
		Key:      types.NamespacedName{Namespace: o.Namespace, Name: o.MeshConfigName},
		Defaults: bootstrap.Defaults(o.Namespace),
		Log:      log.WithName("meshconfig-validity"),
	}
	if err := statusRec.SetupWithManager(mgr); err != nil {
		return err
	}
	rbOpts := rebootstrap.Options{
		Namespace:      o.Namespace,
		MeshConfigName: o.MeshConfigName,
		MaxConcurrent:  o.MaxConcurrentRollouts,
		Defaults:       bootstrap.Defaults(o.Namespace),
		Bootstraps:     bootstraps,
		HealReady:      healReady(mgr.GetWebhookServer().StartedChecker(), provider, mgr.GetClient(), mgr.GetAPIReader()),
	}
	// One cache of the pods' metadata for the process: the re-bootstrap controller's holds
	// every pod, the garbage collector reads the injected ones from it.
	rbCache, err := rebootstrap.NewCache(mgr, rbOpts)
	if err != nil {
		return err
	}
	rbOpts.Cache = rbCache
	gcRec := &gc.Reconciler{
		Client:    mgr.GetClient(),
		Pods:      rbCache,
		APIReader: mgr.GetAPIReader(),
		Grace:     o.ConfigMapGCGrace,
		Log:       log.WithName("configmap-gc"),
	}
	if err := gcRec.SetupWithManager(mgr); err != nil {
		return err
	}
	return rebootstrap.Setup(mgr, rbOpts)
}

// healReady is the re-bootstrap controller's check before it rolls workloads whose pods run
// without the sidecar: the webhook server accepts TLS connections, a valid serving
// certificate is loaded (the checks of /readyz), and the live MutatingWebhookConfiguration's
// caBundle trusts that certificate, and, for a webhook called through its Service, that
// Service has had a ready endpoint for serviceSettle, so that the rolled pods get injected.
// reader is the manager's cache (it holds the configuration); apiReader reads the
// EndpointSlices from the API server.
func healReady(started healthz.Checker, provider certs.Provider, reader, apiReader client.Reader) func() error {
	var (
		mu          sync.Mutex
		routedSince time.Time
	)
	return func() error {
		if err := started(&http.Request{}); err != nil {
			return fmt.Errorf("the webhook server is not serving yet: %w", err)
		}
		if err := provider.Ready(); err != nil {
			return fmt.Errorf("the webhook has no usable serving certificate yet: %w", err)
		}
		cert, err := provider.GetCertificate(nil)
		if err != nil {
			return fmt.Errorf("the webhook has no usable serving certificate yet: %w", err)
		}
		mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
		ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
		defer cancel()
		switch err := reader.Get(ctx, client.ObjectKey{Name: webhook.ConfigurationName}, mwc); {
		case apierrors.IsNotFound(err):
			mwc = nil
		case err != nil:
			return fmt.Errorf("when reading MutatingWebhookConfiguration %s: %w", webhook.ConfigurationName, err)
		}
		if err := webhook.CheckTrusted(mwc, cert); err != nil {
			return err
		}
		// The EndpointSlices are read live, and only while heals are pending: the manager's
		// cache does not watch them.
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.CheckServiceReady(ctx, apiReader, mwc); err != nil {
			routedSince = time.Time{}
			return err
		}
		// kube-proxy programs a new endpoint a moment after the EndpointSlice lists it.
		if routedSince.IsZero() {
			routedSince = time.Now()
		}
		if wait := serviceSettle - time.Since(routedSince); wait > 0 {
			return fmt.Errorf("the webhook's Service got a ready endpoint %s ago: giving the nodes' proxies %s to route it", time.Since(routedSince).Round(time.Millisecond), serviceSettle)
		}
		return nil
	}
}

// serviceSettle is how long heals wait after the webhook's Service first lists a ready
// endpoint, for kube-proxy on every node (the API server's included) to route to it.
const serviceSettle = 2 * time.Second

func (o *Options) proxyConfig() inject.ProxyConfig {
	p := inject.DefaultProxyConfig()
	p.EnvoyImage, p.InitImage, p.LogLevel = o.EnvoyImage, o.InitImage, o.EnvoyLogLevel
	// Validate has refused malformed values before the manager starts.
	if r, err := parseResources(o.EnvoyResources); err == nil && r != nil {
		p.Resources = *r
	}
	if r, err := parseResources(o.InitResources); err == nil && r != nil {
		p.InitResources = *r
	}
	p.Concurrency = o.EnvoyConcurrency
	p.OutboundPortExclusions, _ = inject.ParsePortList(o.OutboundPortExclusionList)
	p.InboundPortExclusions, _ = inject.ParsePortList(o.InboundPortExclusionList)
	p.OutboundIPExclusions, _ = inject.ParseCIDRList(o.OutboundIPRangeExclusionList)
	p.OutboundIPInclusions, _ = inject.ParseCIDRList(o.OutboundIPRangeInclusionList)
	return p
}

// everyReplica runs the certificate provider on every replica, leader or not.
type everyReplica struct{ certs.Provider }

func (everyReplica) NeedLeaderElection() bool { return false }

// goMemLimit is the Go runtime's memory limit for the start-up log: "none", or bytes.
func goMemLimit() string {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return strconv.FormatInt(l, 10)
	}
	return "none"
}
