package bootstrap

import "strings"

// PrometheusListenerName is the listener that serves Envoy's statistics on PrometheusPort.
const PrometheusListenerName = "prometheus"

// IsCaptureListener says whether the listener named name carries the pod's own traffic (the
// outbound and inbound capture listeners), whose HTTP connection managers trace and log;
// the health and Prometheus listeners never do.
func IsCaptureListener(name string) bool {
	return name == OutboundListenerName || name == InboundListenerName
}

// Span names. Envoy names a span after its HCM's tracing.operation, an access-log format
// string, when one is set (it then ignores route decorators). Its defaults, "ingress" and
// "egress <host>", give every inbound operation of a service one name. Ours say what happened,
// in few distinct values: the method, and where the request went. Never the path: it holds
// ids (/books/9781), and a name per id makes a backend's list of operations useless.
//   - Inbound, the method and the port the application serves, as the client dialled it
//     (the original destination the redirect restored): "GET :14001". The authority is left
//     out because each caller writes it its own way (bookstore, bookstore.ns, an IP).
//   - Outbound, the method and the authority the application asked for, with its port:
//     "GET bookstore.bookstore:14001". That is the service being called, as Istio's
//     decorator names it ("host:port/*"), without the path.
//
// MeshConfig's spec.observability.tracing.spanNames overrides either, within
// SpanNameCommands. That Envoy names spans so is config checked (checkSpanNames in the rules
// table, against Envoy's docs), not run: no test here runs Envoy.
const (
	DefaultInboundSpanName  = "%REQ(:METHOD)% :%DOWNSTREAM_LOCAL_PORT%"
	DefaultOutboundSpanName = "%REQ(:METHOD)% %REQ(:AUTHORITY)%"
)

// SpanNameCommands are the Envoy format commands a span name may use. Envoy refuses a
// bootstrap whose format names a command it does not know, and a sidecar that cannot start
// takes its pod down with it, so span names are held to a list of commands that exist in
// every Envoy this project supports and that keep names low in cardinality when used with
// care: request headers (REQ, such as %REQ(:METHOD)% or %REQ(:AUTHORITY)%, optionally
// truncated: %REQ(:AUTHORITY):40%), the protocol, the original destination port, and the
// pod's hostname.
var SpanNameCommands = []string{"REQ", "PROTOCOL", "DOWNSTREAM_LOCAL_PORT", "HOSTNAME"}

// Access log. With the access log on, every HTTP exchange and every TCP connection the
// sidecar proxies is one line on Envoy's standard output (kubectl logs -c envoy):
//
//	[2026-12-07T04:01:02.003Z] outbound "GET /books/1 HTTP/1.1" 200 - 0 512 3ms "bookstore.bookstore:14001" 10.1.0.7:41234 -> 10.1.0.9:14001 trace=4bf92f3577b34da6a3ce929d0e0e4736 req=2c1b...
//	[2026-12-07T04:01:05.000Z] outbound tcp - 120 4096 802ms 10.1.0.7:41240 -> 10.96.0.20:3306
//
// After the status come the response flags ("-" when none): UF (upstream connection
// failure), UC (upstream connection closed), UO (overflow), NR (no route), URX (retries
// exhausted), DC (downstream closed) and the rest of Envoy's list. The trace id is the
// request's, sampled or not, so a log line leads to its trace. These lines are what the
// formats say, config checked (checkAccessLog): no test here runs Envoy; e2e's stand-in
// writes lines of the same formats.
const (
	AccessLogHTTPFormat = `[%START_TIME%] %DIRECTION% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ` +
		`%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%ms "%REQ(:AUTHORITY)%" ` +
		`%DOWNSTREAM_REMOTE_ADDRESS% -> %UPSTREAM_HOST% trace=%TRACE_ID% req=%REQ(X-REQUEST-ID)%` + "\n"
	AccessLogTCPFormat = `[%START_TIME%] %DIRECTION% tcp %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%ms ` +
		`%DOWNSTREAM_REMOTE_ADDRESS% -> %UPSTREAM_HOST%` + "\n"
)

// accessLogFormat is format with %DIRECTION% replaced by the listener's name (inbound or
// outbound): Envoy has no command for it, and the line must say which side of the pod it is.
func accessLogFormat(format, listener string) string {
	return strings.ReplaceAll(format, "%DIRECTION%", listener)
}

// Resource attributes. With the OpenTelemetry protocol the Kubernetes facts describe the
// process that emits the spans, so they are resource attributes, which backends group and
// filter by, rather than tags repeated on every span. Envoy's OpenTelemetry tracer takes
// them from resource detectors: the environment detector reads EnvResourceAttributes, which
// the injector sets on the envoy container from the downward API (ResourceAttributesValue),
// so one bootstrap still serves every pod of a workload; the workload's name, the same in
// every pod, is a static attribute in the bootstrap; service.name is the tracer's
// service_name. Config checked (checkResourceAttributes), not run.
const (
	EnvResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES"
	// AttributeServiceName is OpenTelemetry's service.name.
	AttributeServiceName = "service.name"
)

// ResourceAttributesValue is the value of EnvResourceAttributes on the envoy container:
// pod, namespace and node, in the OpenTelemetry environment variable's key=value,... form,
// with Kubernetes' $(VAR) references to the variables the injector sets before it (the
// names are DNS labels and subdomains, which need no percent-encoding).
func ResourceAttributesValue() string {
	return TagPodName + "=$(" + EnvPodName + ")," +
		TagNamespaceName + "=$(" + EnvPodNamespace + ")," +
		TagNodeName + "=$(" + EnvNodeName + ")"
}
