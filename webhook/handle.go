package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/go-logr/logr"
	"gomodules.xyz/jsonpatch/v2"
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
		Generate:              h.bootstraps.Generate,
	}
	res, err := h.mutate(pod, ns, env)
	var userErr *bootstrap.FieldError
	switch {
	case errors.As(err, &userErr):
		// A malformed annotation: the user's to fix, refused whatever the failure policy.
		log.Info("denying the pod", "reason", err.Error())
		return admission.Denied(err.Error()), ResultDenied
	case err != nil:
		// A proxy config or bootstrap the core refuses: the injector's fault, not the pod's.
		return h.internalError(log, fmt.Errorf("when injecting: %w", err)), ResultError
	}
	if res.Skipped {
		log.V(1).Info("not injecting", "reason", res.Reason)
		return admission.Allowed(res.Reason), ResultSkipped
	}
	if res.Pod == nil || res.ConfigMap == nil {
		return h.internalError(log, fmt.Errorf("when injecting: the injector returned no pod or no ConfigMap")), ResultError
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
	if ops, ok := injectionPatch(pod, res.Pod); ok {
		return admission.Patched("", ops...), ResultInjected
	}
	// Something besides what injectionPatch covers changed: diff the whole pods.
	raw, err := json.Marshal(res.Pod)
	if err != nil {
		return h.internalError(log, fmt.Errorf("when encoding the injected pod: %w", err)), ResultError
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw), ResultInjected
}

// injectionPatch is the JSON patch from the admitted pod to the injected one when they differ
// only in the fields injection changes (the labels, the init containers, the containers and
// the volumes): each of those that changed is set to its new value whole ("add" replaces a
// member that exists, RFC 6902 section 4.1) or removed when left empty. It saves encoding the
// injected pod, decoding both pods into maps and diffing them (admission.PatchResponseFromRaw),
// which was most of an admission's CPU time. The rest of the pod is left as it came. ok is
// false when any other field differs; the caller then diffs the whole pods.
func injectionPatch(orig, injected *corev1.Pod) (ops []jsonpatch.JsonPatchOperation, ok bool) {
	// The paths below need "metadata" and "spec" in the admitted pod's JSON: a name (or
	// generateName) and a container say they are there.
	if (orig.Name == "" && orig.GenerateName == "") || len(orig.Spec.Containers) == 0 {
		return nil, false
	}
	restOrig, restInjected := *orig, *injected // shallow copies, to blank the patched fields
	restOrig.Labels, restInjected.Labels = nil, nil
	restOrig.Spec.InitContainers, restInjected.Spec.InitContainers = nil, nil
	restOrig.Spec.Containers, restInjected.Spec.Containers = nil, nil
	restOrig.Spec.Volumes, restInjected.Spec.Volumes = nil, nil
	// reflect.DeepEqual, not the much slower apiequality.Semantic: the injected pod is a deep
	// copy, so what injection left alone is equal to the last bit; a false "differs" would
	// only cost the full diff.
	if !reflect.DeepEqual(&restOrig, &restInjected) {
		return nil, false
	}
	set := func(path string, changed bool, after any, emptyBefore, emptyAfter bool) {
		switch {
		case !changed || emptyBefore && emptyAfter: // nil and empty are the same to the API
		case emptyAfter: // not empty before, so present in the admitted pod's JSON
			ops = append(ops, jsonpatch.NewOperation("remove", path, nil))
		default:
			ops = append(ops, jsonpatch.NewOperation("add", path, after))
		}
	}
	o, i := orig, injected
	set("/metadata/labels", !reflect.DeepEqual(o.Labels, i.Labels), i.Labels, len(o.Labels) == 0, len(i.Labels) == 0)
	set("/spec/initContainers", !reflect.DeepEqual(o.Spec.InitContainers, i.Spec.InitContainers), i.Spec.InitContainers,
		len(o.Spec.InitContainers) == 0, len(i.Spec.InitContainers) == 0)
	set("/spec/containers", !reflect.DeepEqual(o.Spec.Containers, i.Spec.Containers), i.Spec.Containers,
		len(o.Spec.Containers) == 0, len(i.Spec.Containers) == 0)
	set("/spec/volumes", !reflect.DeepEqual(o.Spec.Volumes, i.Spec.Volumes), i.Spec.Volumes,
		len(o.Spec.Volumes) == 0, len(i.Spec.Volumes) == 0)
	return ops, true
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
// here: it is read once from the API server rather than letting the pod start untraced.
func (h *Handler) namespace(ctx context.Context, name string) (inject.Namespace, error) {
	if name == "" {
		return inject.Namespace{}, fmt.Errorf("when reading the pod's namespace: the request names no namespace")
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := h.opts.Cache.Get(ctx, client.ObjectKey{Name: name}, meta)
	stale := apierrors.IsNotFound(err) || err == nil && meta.Labels[bootstrap.InjectionLabel] != inject.InjectionEnabled
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
