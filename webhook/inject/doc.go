// Package inject is the pod core of osm-tracing: every rule about a pod, shared by the
// admission webhook, the re-bootstrap controller, `osm inject` and the CLI's proxy and check
// commands, none of which re-derives any of them.
//
//   - NamespaceInMesh says whether a namespace is in the mesh (the label with its one value,
//     none of NeverInjectedNamespaces); the webhook configuration's namespaceSelector is built
//     from the same constants. Decide says whether a pod is injected (its namespace in the
//     mesh, the opt-out annotation, hostNetwork, a sidecar already there); IsInjected, Sidecar and SidecarStatus find the sidecar, a native one (an init
//     container with restartPolicy Always, as injected now) or a regular container.
//   - Env.PodInput and Env.TemplateInput are the bootstrap.Input of a pod or of a workload's
//     pod template; PodName is the name a pod's service name falls back to (its
//     generateName first, as the webhook sees it at admission).
//   - ResolveTraffic reads the redirect exclusions and Envoy's concurrency (OSM 1.2's
//     openservicemesh.io/* annotations over the mesh-wide lists); ResolveResources reads the
//     envoy container's resources (openservicemesh.io/proxy-cpu-request and the rest over the
//     chart's); PodQOS is Kubernetes' QoS class of a pod, which injection keeps Guaranteed.
//   - Mutate resolves a pod's settings, generates its Envoy bootstrap and returns the
//     injected copy, the ConfigMap it mounts and exactly what injection added (Parts), from
//     which AppendPatch builds the append-only JSON patch the webhook answers with; Inject
//     and Uninject add and remove the sidecar's parts; Manifest (osm inject) applies the same
//     AppendPatch to the pods and pod templates of a YAML stream.
//
// Nothing here talks to a cluster: values in, values out. Inputs are never modified.
package inject
