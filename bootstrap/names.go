package bootstrap

// Annotations and labels users and tools rely on (see the product contract).
const (
	// AnnotationPrefix is the prefix of the tracing override annotations.
	AnnotationPrefix = "tracing.openservicemesh.io/"

	AnnotationEnable      = AnnotationPrefix + "enable"
	AnnotationAddress     = AnnotationPrefix + "address"
	AnnotationPort        = AnnotationPrefix + "port"
	AnnotationEndpoint    = AnnotationPrefix + "endpoint"
	AnnotationSampling    = AnnotationPrefix + "sampling"
	AnnotationServiceName = AnnotationPrefix + "service-name"
	AnnotationPropagation = AnnotationPrefix + "propagation"
	AnnotationProtocol    = AnnotationPrefix + "protocol"
	// AnnotationTags adds extra span tags: team=payments,tenant=header:x-tenant-id.
	AnnotationTags = AnnotationPrefix + "tags"

	// AnnotationServerFirstPorts on a pod or namespace lists more server-first ports
	// (comma-separated, 1..65535), added to DefaultServerFirstPorts. It is Open Service Mesh's
	// prefix, like the other traffic annotations; it is the one such key Resolve reads.
	AnnotationServerFirstPorts = "openservicemesh.io/server-first-ports"

	// AnnotationAccessLog on a pod or namespace turns Envoy's access log on ("true") or off
	// ("false"), over the MeshConfig's spec.observability.accessLog.enable (the pod's wins).
	AnnotationAccessLog = "openservicemesh.io/access-log"

	// AnnotationAutoRebootstrap set to "false" on a workload opts it out of re-bootstrap.
	AnnotationAutoRebootstrap = AnnotationPrefix + "auto-rebootstrap"

	// BootstrapHashKey is the pod label (set at injection) and the pod-template annotation
	// (stamped by the re-bootstrap controller) that carries the bootstrap's content hash.
	BootstrapHashKey = AnnotationPrefix + "bootstrap-hash"

	// InjectionAnnotation on a pod opts it in or out of injection; InjectionLabel on a
	// namespace enables injection for its pods.
	InjectionAnnotation = "openservicemesh.io/sidecar-injection"
	InjectionLabel      = "openservicemesh.io/sidecar-injection"

	// ManagedByLabel marks the bootstrap ConfigMaps the injector owns.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "osm-injector"

	// ConfigMapPrefix starts the name of every bootstrap ConfigMap:
	// envoy-bootstrap-<service>-<hash>.
	ConfigMapPrefix = "envoy-bootstrap-"
	// BootstrapKey is the ConfigMap key that holds the bootstrap YAML (Generated.YAML, whose
	// listeners bind 0.0.0.0 and [::]).
	BootstrapKey = "bootstrap.yaml"
	// BootstrapIPv4Key is the ConfigMap key that holds the IPv4-only rendering of the same
	// bootstrap (Generated.IPv4YAML), for nodes whose kernel has no IPv6.
	BootstrapIPv4Key = "bootstrap-ipv4.yaml"

	// TracingClusterName is the static cluster spans are sent through.
	TracingClusterName = "envoy-tracing-cluster"

	// DefaultMeshConfigName and DefaultNamespace are the MeshConfig the injector follows.
	DefaultMeshConfigName = "osm-mesh-config"
	DefaultNamespace      = "osm-system"
)

// Envoy's ports and identity inside an injected pod.
const (
	EnvoyUID     = 1500
	AdminPort    = 15000
	OutboundPort = 15001
	InboundPort  = 15003
	HealthPort   = 15021
	// PrometheusPort serves Envoy's statistics in Prometheus' text format at PrometheusPath
	// on every address of the pod (Istio's port; Linkerd's proxy uses 4191). It is never
	// redirected, like HealthPort.
	PrometheusPort    = 15090
	PrometheusPath    = "/stats/prometheus"
	AdminAddress      = "127.0.0.1"
	EnvoyBootstrapDir = "/etc/envoy"
)
