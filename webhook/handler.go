package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	// Cache reads Namespaces, the MeshConfig and the managed ConfigMaps (an informer cache).
	Cache client.Reader
	// APIReader is used only when the cache does not know the pod's namespace yet, or knows
	// it without the injection label (created or labelled a moment ago); nil disables that.
	APIReader client.Reader
	// Writer creates the bootstrap ConfigMaps.
	Writer client.Writer
	// ControlPlaneNamespace is where the injector and its MeshConfig live.
	ControlPlaneNamespace string
	// MeshConfigName is the MeshConfig the injector follows.
	MeshConfigName string
	// Defaults is the lowest layer of the tracing settings (default bootstrap.Defaults).
	Defaults *bootstrap.Tracing
	// Proxy configures the injected containers.
	Proxy inject.ProxyConfig
	// FailurePolicy decides how internal faults are answered (see the package doc); default
	// Ignore.
	FailurePolicy admissionregistrationv1.FailurePolicyType
	// KnownTTL is how long a ConfigMap this process created or saw is taken to exist without
	// looking again; it must stay below the garbage collector's grace period. Zero disables it.
	KnownTTL time.Duration
	// Bootstraps memoises bootstrap generation (most admissions repeat settings seen before);
	// osm-injector shares it with the re-bootstrap controller, so the process keeps one memo.
	// Nil means a cache of the handler's own.
	Bootstraps *bootstrap.Cache
	// ServerVersion is the API server's version as discovery reports it (v1.31.2): pods that
	// would be injected are denied on clusters too old for the native sidecar
	// (inject.CheckServerVersion). Empty means unknown, and is not checked.
	ServerVersion string
	// Log is the base logger.
	Log logr.Logger
	// Mutate is inject.Mutate; tests replace it.
	Mutate func(*corev1.Pod, inject.Namespace, inject.Env) (inject.Result, error)
}

// Handler is the mutating admission handler served at Path.
type Handler struct {
	opts       HandlerOptions
	defaults   bootstrap.Tracing
	mesh       *MeshSource
	bootstraps *bootstrap.Cache
	ensurer    *configMapEnsurer
	mutate     func(*corev1.Pod, inject.Namespace, inject.Env) (inject.Result, error)
}

var _ admission.Handler = (*Handler)(nil)

// NewHandler returns a Handler; it reports missing options.
func NewHandler(o HandlerOptions) (*Handler, error) {
	switch {
	case o.Cache == nil:
		return nil, fmt.Errorf("when making the admission handler: no cache reader")
	case o.Writer == nil:
		return nil, fmt.Errorf("when making the admission handler: no writer")
	case o.ControlPlaneNamespace == "" || o.MeshConfigName == "":
		return nil, fmt.Errorf("when making the admission handler: control-plane namespace and MeshConfig name are required")
	}
	// A version that does not parse would fail every injection as an internal error; an old one
	// is the handler's to deny, pod by pod.
	var tooOld *inject.UnsupportedClusterError
	if err := inject.CheckServerVersion(o.ServerVersion); err != nil && !errors.As(err, &tooOld) {
		return nil, fmt.Errorf("when making the admission handler: %w", err)
	}
	if o.FailurePolicy == "" {
		o.FailurePolicy = admissionregistrationv1.Ignore
	}
	defaults := bootstrap.Defaults(o.ControlPlaneNamespace)
	if o.Defaults != nil {
		defaults = *o.Defaults
	}
	mutate := o.Mutate
	if mutate == nil {
		mutate = inject.Mutate
	}
	bootstraps := o.Bootstraps
	if bootstraps == nil {
		bootstraps = bootstrap.NewCache(bootstrap.DefaultCacheSize)
	}
	return &Handler{
		opts:       o,
		defaults:   defaults,
		bootstraps: bootstraps,
		mesh: &MeshSource{
			Reader:   o.Cache,
			Key:      types.NamespacedName{Namespace: o.ControlPlaneNamespace, Name: o.MeshConfigName},
			Defaults: defaults,
			Log:      o.Log.WithName("meshconfig"),
		},
		ensurer: newConfigMapEnsurer(o.Cache, o.Writer, o.KnownTTL),
		mutate:  mutate,
	}, nil
}

// Handle answers one AdmissionReview. It never panics: a panic is recovered, logged and
// answered as an internal fault.
func (h *Handler) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	start := time.Now()
	log := requestLogger(h.opts.Log, req)
	result := ResultError
	defer func() {
		if r := recover(); r != nil {
			// internalError logs it, with the request's identity.
			resp, result = h.internalError(log, fmt.Errorf("panic: %v [recovered]", r)), ResultError
		}
		observeAdmission(result, time.Since(start))
	}()
	resp, result = h.handle(ctx, log, req)
	return resp
}
