package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

var podKind = metav1.GroupVersionKind{Group: "", Version: "v1", Kind: "Pod"}

// handle does the work of Handle and names the result for the metrics.
func (h *Handler) handle(ctx context.Context, log logr.Logger, req admission.Request) (admission.Response, string) {
	if req.Kind != podKind {
		return admission.Allowed(fmt.Sprintf("%s is not a v1 Pod; nothing to inject", req.Kind.String())), ResultSkipped
	}
	if req.Operation != admissionv1.Create {
		return admission.Allowed(fmt.Sprintf("operation %s: pods are injected on CREATE only", req.Operation)), ResultSkipped
	}
	pod := &corev1.Pod{}
	if err := decodePod(req.Object.Raw, pod); err != nil {
		log.Info("refusing an undecodable pod", "error", err.Error())
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("when decoding the pod: %w", err)), ResultError
	}
	log = podLogger(log, pod)

	ns, err := h.namespace(ctx, req.Namespace)
	if err != nil {
		return h.internalError(log, err), ResultError
	}
	mesh, err := h.mesh.Current(ctx)
	if err != nil {
		return h.internalError(log, err), ResultError
	}
	env := inject.Env{
		ControlPlaneNamespace: h.opts.ControlPlaneNamespace,
		Defaults:              h.defaults,
		Mesh:                  mesh,
		Proxy:                 h.opts.Proxy,
		ServerVersion:         h.opts.ServerVersion,
		Generate:              h.bootstraps.Generate,
	}
	res, err := h.mutate(pod, ns, env)
	var (
		userErr *bootstrap.FieldError
		tooOld  *inject.UnsupportedClusterError
		genErr  *inject.GenerateError
	)
	switch {
	case errors.As(err, &userErr):
		// A malformed annotation: the user's to fix, refused whatever the failure policy.
		log.Info("denying the pod", "reason", err.Error())
		return admission.Denied(err.Error()), ResultDenied
	case errors.As(err, &tooOld):
		// A cluster too old for the native sidecar (the pod would hang in Init): not a passing
		// fault of the injector for Ignore to paper over, but the operator's to fix, so it is
		// refused whatever the failure policy, and the message says how to create the pod
		// without the sidecar.
		log.Info("denying the pod", "reason", err.Error())
		return admission.Denied(err.Error()), ResultDenied
	case errors.As(err, &genErr):
		// Settings that Resolve accepted but the generator refuses. Resolve is meant to refuse
		// every value Envoy would (bootstrap's TestCRDAcceptedFormsRender walks the CRD's
		// accepted forms through Generate), so this is a gap between the two; but it is not a
		// passing fault either: the same settings fail on every retry, for every replica.
		// Under failurePolicy Ignore an internal error admits the pod without the sidecar,
		// which would silently take the workload out of the mesh while its namespace asks
		// for injection. A denial is visible (the ReplicaSet's FailedCreate event names the
		// settings), so these are denied whatever the failure policy, like the two above.
		log.Info("denying the pod: its bootstrap cannot be built", "reason", err.Error())
		return admission.Denied("osm-injector cannot build the Envoy bootstrap for this pod's tracing settings " +
			"(the MeshConfig's spec.observability.tracing and the tracing.openservicemesh.io/ annotations of the pod and its namespace); " +
			"the pod is refused rather than started without the sidecar: " + err.Error()), ResultDenied
	case err != nil:
		// A proxy config or bootstrap the core refuses: the injector's fault, not the pod's.
		return h.internalError(log, fmt.Errorf("when injecting: %w", err)), ResultError
	}
	if res.Skipped {
		log.V(1).Info("not injecting", "reason", res.Reason)
		return admission.Allowed(res.Reason), ResultSkipped
	}
	if res.ConfigMap == nil || len(res.Added.InitContainers) == 0 {
		return h.internalError(log, fmt.Errorf("when injecting: the injector returned no ConfigMap or added no container")), ResultError
	}

	if isDryRun(req) {
		log.V(1).Info("dry run: not writing the bootstrap ConfigMap", "configMap", res.ConfigMap.Name)
	} else {
		created, err := h.ensurer.ensure(ctx, res.ConfigMap)
		if err != nil {
			return h.internalError(log, err), ResultError
		}
		if created {
			configMapsCreated.Inc()
			log.Info("created the bootstrap ConfigMap", "configMap", res.ConfigMap.Name, "hash", res.Bootstrap.Hash)
		}
	}

	log.V(1).Info("injecting", "configMap", res.ConfigMap.Name, "service", res.Settings.ServiceName)
	// Append-only: the patch adds res.Added to the pod's JSON as sent and rewrites nothing,
	// so fields our k8s.io/api types do not know survive (see inject.AppendPatch for why, and for
	// what controller-runtime and Istio do instead).
	ops, err := inject.AppendPatch(req.Object.Raw, pod, res.Added)
	if err != nil {
		return h.internalError(log, err), ResultError
	}
	return admission.Patched("", ops...), ResultInjected
}

// decodePod decodes the admitted pod's JSON as the admission decoder does for a typed object
// (sigs.k8s.io/json: case-sensitive keys, integers kept; no defaulting, no conversion), minus
// its first pass over the whole document to read apiVersion and kind, which req.Kind gives.
func decodePod(raw []byte, pod *corev1.Pod) error {
	if len(raw) == 0 {
		return errors.New("there is no content to decode")
	}
	if err := utiljson.Unmarshal(raw, pod); err != nil {
		return err
	}
	if (pod.APIVersion != "" && pod.APIVersion != "v1") || (pod.Kind != "" && pod.Kind != "Pod") {
		return fmt.Errorf("the object is a %s %s, not a v1 Pod", pod.APIVersion, pod.Kind)
	}
	return nil
}

// namespace reads the pod's namespace metadata from the cache. The API server only calls the
// webhook for namespaces its namespaceSelector matches, so a namespace the cache does not know
// yet, or knows without the injection label (osm namespace add an instant ago), is stale
// here: it is read once from the API server rather than letting the pod start untraced. A
// never-injected namespace (inject.NeverInjectedNamespace) is never stale.
func (h *Handler) namespace(ctx context.Context, name string) (inject.Namespace, error) {
	if name == "" {
		return inject.Namespace{}, fmt.Errorf("when reading the pod's namespace: the request names no namespace")
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := h.opts.Cache.Get(ctx, client.ObjectKey{Name: name}, meta)
	stale := apierrors.IsNotFound(err)
	if err == nil {
		// A never-injected namespace is so by its name, which no read can change: Decide
		// skips its pods without a read from the API server.
		in, _ := inject.NamespaceInMesh(inject.Namespace{Name: name, Labels: meta.Labels}, h.opts.ControlPlaneNamespace)
		never, _ := inject.NeverInjectedNamespace(name, h.opts.ControlPlaneNamespace)
		stale = !in && !never
	}
	if stale && h.opts.APIReader != nil {
		err = h.opts.APIReader.Get(ctx, client.ObjectKey{Name: name}, meta)
	}
	if err != nil {
		return inject.Namespace{}, fmt.Errorf("when reading namespace %s: %w", name, err)
	}
	return inject.Namespace{Name: name, Labels: meta.Labels, Annotations: meta.Annotations}, nil
}

// internalError answers a fault of the injector according to the failure policy: under
// Ignore the pod is admitted without the sidecar, as the API server would admit it if the
// injector were unreachable; under Fail it is refused with 500.
func (h *Handler) internalError(log logr.Logger, err error) admission.Response {
	if h.opts.FailurePolicy == admissionregistrationv1.Fail {
		log.Error(err, "refusing the pod: internal error (failurePolicy Fail)")
		return admission.Errored(http.StatusInternalServerError, err)
	}
	log.Error(err, "admitting the pod without the sidecar: internal error (failurePolicy Ignore)")
	msg := "osm-injector: the pod was admitted without the Envoy sidecar because of an internal error: " + err.Error()
	return admission.Allowed(msg).WithWarnings(msg)
}

func isDryRun(req admission.Request) bool {
	return req.DryRun != nil && *req.DryRun
}
