package bootstrap

// Tracing is the effective tracing configuration of one Envoy.
type Tracing struct {
	// Enable turns the tracer and the tracing cluster on.
	Enable bool
	// Protocol is what the tracer speaks to the collector: ProtocolZipkin (Zipkin v2 JSON
	// over HTTP) or ProtocolOpenTelemetry (OTLP over gRPC). Resolve never leaves it empty.
	Protocol string
	// Address is the collector's DNS name or IP.
	Address string
	// Port is the collector's port, 1..65535.
	Port uint32
	// Endpoint is the HTTP path spans are posted to; it begins with '/'. Zipkin only: with
	// ProtocolOpenTelemetry it is empty (OTLP/gRPC has a fixed method path).
	Endpoint string
	// Sampling is the percentage (0..100) of new traces that are sampled.
	Sampling float64
	// Propagation is the trace context the tracer reads and writes: PropagationB3 or
	// PropagationB3W3C. It configures the Zipkin tracer; the OpenTelemetry tracer always
	// reads and writes W3C traceparent (and tracestate) and nothing else, so with
	// ProtocolOpenTelemetry the field is kept but does not change the bootstrap.
	Propagation string
	// Tags are the extra span tags, in canonical form: one per line, sorted by name, each
	// NAME=literal:VALUE or NAME=header:HEADER; empty for none. A string keeps Tracing
	// comparable. The MeshConfig's spec.observability.tracing.tags and the annotation
	// AnnotationTags give them.
	Tags string
	// MaxPathTagLength is where Envoy truncates the http.url tag; 0 leaves Envoy's default
	// (256).
	MaxPathTagLength uint32
	// InboundSpanName and OutboundSpanName name the spans of each side, as Envoy format
	// strings within SpanNameCommands; empty for DefaultInboundSpanName and
	// DefaultOutboundSpanName (see SpanNames).
	InboundSpanName, OutboundSpanName string

	// AccessLog turns Envoy's access log on (AccessLogHTTPFormat, AccessLogTCPFormat on
	// standard output). It is not tracing, but it is one more observability setting that
	// changes the bootstrap and follows the same layers (MeshConfig's
	// spec.observability.accessLog, then AnnotationAccessLog on the namespace and the pod), so
	// it lives here and a change of it rolls the workloads like a tracing change.
	AccessLog bool
}

// SpanNames are the span name formats t gives each side, the defaults filled in.
func (t Tracing) SpanNames() (inbound, outbound string) {
	inbound, outbound = t.InboundSpanName, t.OutboundSpanName
	if inbound == "" {
		inbound = DefaultInboundSpanName
	}
	if outbound == "" {
		outbound = DefaultOutboundSpanName
	}
	return inbound, outbound
}

// Collector protocols.
const (
	// ProtocolZipkin posts Zipkin v2 JSON spans over HTTP (Envoy's envoy.tracers.zipkin),
	// to Jaeger's or Zipkin's port 9411.
	ProtocolZipkin = "zipkin"
	// ProtocolOpenTelemetry exports OTLP over gRPC (Envoy's envoy.tracers.opentelemetry),
	// to an OpenTelemetry collector's or Jaeger v2's port 4317.
	ProtocolOpenTelemetry = "opentelemetry"
)

// Default collector ports, by protocol: the port when no layer sets one.
const (
	DefaultZipkinPort = 9411
	DefaultOTLPPort   = 4317
)

// DefaultEndpoint is the Zipkin v2 API path, the default endpoint.
const DefaultEndpoint = "/api/v2/spans"

// DefaultPort is the collector port of protocol p when no layer sets one.
func DefaultPort(p string) uint32 {
	if p == ProtocolOpenTelemetry {
		return DefaultOTLPPort
	}
	return DefaultZipkinPort
}

// Trace context propagations.
const (
	// PropagationB3 reads and writes B3 headers (x-b3-traceid, ...) only, as Envoy's Zipkin
	// tracer has always done.
	PropagationB3 = "b3"
	// PropagationB3W3C reads B3 headers, else W3C traceparent, and writes both: a service
	// instrumented with OpenTelemetry's default propagator (W3C) and one speaking B3 then
	// join the same trace.
	PropagationB3W3C = "b3+w3c"
)

// Settings is everything a bootstrap is built from. Two pods with equal Settings share one
// bootstrap, hence one ConfigMap. Settings is comparable, so it can key a cache.
type Settings struct {
	Tracing Tracing
	// ServiceName is the name spans carry (Envoy's node.cluster).
	ServiceName string
	// Workload is the pod's owning workload, whose name every span carries as a literal tag
	// named after its kind (WorkloadTag); zero for a bare pod or a kind without a tag. The
	// pods of one workload share it, so they still share one bootstrap.
	Workload Workload
	// ServerFirstPorts are destination ports whose connections skip HTTP detection and go
	// straight to the TCP chain, in addition to DefaultServerFirstPorts, which always do. The
	// form is canonical, so equal lists compare equal: ascending, without repeats, separated
	// by commas (23,3307); empty for none beyond the defaults. Resolve gives the ports of the
	// namespace's and the pod's AnnotationServerFirstPorts that are not defaults. A string
	// keeps Settings comparable; the zero value is the default behaviour.
	ServerFirstPorts string
}

// DefaultServerFirstPorts are the server-first ports every sidecar knows without being told.
//
// The HTTP inspector waits for a client's first bytes to tell HTTP from the rest, up to the
// listener filter timeout (1 s). In a server-first protocol the client says nothing until the
// server has spoken, and the server hears nothing until Envoy connects it: each new
// connection waits the full second, then goes to the TCP chain. Connections to these ports
// skip the inspector:
//   - 21, FTP control: the client waits for the server's 220 greeting.
//   - 22, SSH: the server sends its identification line first; many clients send theirs at
//     once too, but the protocol lets a client wait for the server's, and some do.
//   - 25, SMTP; 587, submission (RFC 6409); 2525, the submission port mail services (SendGrid,
//     Mailgun, Postmark, ...) offer where clouds block 25 and 587: the client waits for the
//     server's 220 greeting. 2525 is not registered with IANA, but nothing else is known to
//     use it, and an application relaying mail from a cluster is the common case there.
//   - 110, POP3: the client waits for the server's +OK greeting.
//   - 143, IMAP: the client waits for the server's * OK greeting.
//   - 3306, MySQL (and MariaDB): the server opens with its handshake packet.
//   - 4222, NATS clients: the server opens with its INFO line.
//
// The TLS ports of the same protocols (465, 993, 995) are client-first: the client sends its
// ClientHello at once, the inspector sees it is not HTTP and the connection goes to the TCP
// chain without waiting. So are PostgreSQL, Redis, MongoDB, Kafka, AMQP and memcached: they
// need nothing. A port listed here that in fact carries HTTP loses only its HTTP chain (no
// spans for it), never its traffic.
//
// Istio detects nothing on a port declared server-first and otherwise leaves it to the user
// to declare such ports (by a Service port's protocol); Linkerd's default opaque ports (25,
// 587, 3306, 4444, 5432, 6379, 9300, 11211) mix server-first protocols with client-first ones
// its proxy must not parse. A tracing sidecar has no Service ports to read, and ours passes
// any undetected client-first protocol after the inspector, so we list exactly the common
// server-first ones and take more from the annotation openservicemesh.io/server-first-ports
// (which adds to these).
const DefaultServerFirstPorts = "21,22,25,110,143,587,2525,3306,4222"

// Defaults returns the built-in tracing defaults for a control plane in namespace ns: the
// lowest layer of precedence, under the MeshConfig and annotations.
func Defaults(ns string) Tracing {
	if ns == "" {
		ns = DefaultNamespace
	}
	return Tracing{
		Enable:   false,
		Protocol: ProtocolZipkin,
		Address:  "jaeger." + ns + ".svc.cluster.local",
		Port:     DefaultZipkinPort,
		Endpoint: DefaultEndpoint,
		Sampling: 100,
		// Both, so that W3C-instrumented applications' traces join the sidecars' from the
		// start; B3 stays first, so B3 callers keep working as before.
		Propagation: PropagationB3W3C,
	}
}

// Span tags every traced request carries, named as OpenTelemetry's Kubernetes semantic
// conventions name the resource attributes. The pod's own are read from the envoy
// container's environment (the downward API), so the bootstrap stays the same for every pod
// of a workload; Envoy writes the tag's default when the variable is unset.
const (
	TagPodName       = "k8s.pod.name"
	TagNamespaceName = "k8s.namespace.name"
	TagNodeName      = "k8s.node.name"
)

// Environment variables of the envoy container the span tags read (webhook/inject sets
// them from metadata.name, metadata.namespace and spec.nodeName).
const (
	EnvPodName      = "POD_NAME"
	EnvPodNamespace = "POD_NAMESPACE"
	EnvNodeName     = "NODE_NAME"
)

// workloadTags name the tag that carries a workload's name, by kind.
var workloadTags = map[string]string{
	KindDeployment:  "k8s.deployment.name",
	KindReplicaSet:  "k8s.replicaset.name",
	KindStatefulSet: "k8s.statefulset.name",
	KindDaemonSet:   "k8s.daemonset.name",
	KindJob:         "k8s.job.name",
	KindCronJob:     "k8s.cronjob.name",
}

// WorkloadTag is the span tag naming w (such as k8s.deployment.name), or "" when w's kind
// has none.
func WorkloadTag(w Workload) string { return workloadTags[w.Kind] }
