// Package inject is the pure core of sidecar injection, shared by the admission webhook and
// `osm inject`: Decide says whether a pod is injected, Mutate resolves its tracing settings,
// generates its Envoy bootstrap and returns the injected copy with the ConfigMap it mounts,
// Inject and Uninject add and remove exactly the sidecar's parts, and Manifest does the
// same to the pod templates of a multi-document YAML stream.
//
// Nothing here talks to a cluster: values in, values out. Inputs are never modified.
package inject
