// Package webhook is what osm-injector runs, beside its subpackages (inject: the pod core;
// certs: webhook TLS; rebootstrap: the MeshConfig watcher; gc: the ConfigMap collector). This
// package is the admission side: the mutating Handler served at
// /mutate-v1-pod, the MutatingWebhookConfiguration it keeps current, and the MeshConfig
// bookkeeping both need.
//
// The Handler is a thin shell around the pure core (webhook/inject and bootstrap): it decodes
// the Pod, reads the pod's Namespace and the MeshConfig from informer caches (never a live API
// read per request), calls inject.Mutate, makes sure the content-addressed bootstrap ConfigMap
// exists (nothing is written for dry-run requests) and answers with an append-only JSON
// patch: "add" operations of the containers, volumes, labels and annotations injection made (Result.Added),
// at the end of their lists, so that every field of the admitted JSON, those our compiled
// k8s.io/api types do not know included, is left as the user wrote it.
//
// Failure policy. Tracing is observability: an injector outage must not block every
// deployment in the labelled namespaces, so the default failurePolicy is Ignore and, under
// Ignore, the Handler answers internal faults the same way the API server answers an
// unreachable webhook: the pod is allowed without the sidecar (with a warning, a log line and
// result="error" in the metrics); `osm tracing check` reports such pods. With failurePolicy
// Fail, internal faults are answered 500 and the pod is refused. User errors (a malformed
// annotation) are always denied with the precise message, whatever the policy, and so is a pod
// that would be injected on a cluster too old for the native sidecar (HandlerOptions.
// ServerVersion below 1.29): that is the operator's to fix, not a passing fault.
package webhook
