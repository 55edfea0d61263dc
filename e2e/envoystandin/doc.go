// Package envoystandin is a STAND-IN for Envoy, for end-to-end tests only. No Envoy binary
// can run on the test machines. It must never be presented as Envoy: it proves the plumbing
// around the sidecar (the injected command line, the bootstrap file, the iptables redirect,
// the probes, the Service and network path to the collector), not Envoy's behaviour.
//
// Where this package says it does something "as Envoy does", that is what it imitates, from
// Envoy's documentation and source; no test here runs Envoy. That Envoy itself does so with
// the generated bootstrap is config checked only: held to Envoy's docs by the rules table
// (bootstrap/rules*_test.go).
//
// # Admin paths (Handler)
//
// A test that port-forwards to an injected pod's admin port (15000) on kwok reaches Handler
// (through a kwok PortForward); the stand-in binary serves it on the admin address too. It
// answers a few admin paths from the pod's own generated bootstrap:
//
//   - /config_dump: the bootstrap wrapped as Envoy wraps it, a ConfigDump holding one
//     envoy.admin.v3.BootstrapConfigDump, rendered as JSON with proto field names;
//   - /clusters: the static clusters and their endpoints, one "name::key::value" line each,
//     in the shape of Envoy's text output;
//   - /ready: "LIVE".
//
// # The stand-in binary (Run)
//
// cmd/envoy-standin, /usr/local/bin/envoy in the image osm-tracing.test/envoy-standin
// (e2e/testimages), runs in real pods of the real-node tests as the injected envoy container:
//
//   - it parses Envoy's command line as the injector writes it (-c, --log-level,
//     --service-node, --disable-hot-restart, --concurrency; also --config-path, -l,
//     --service-cluster) and refuses any other flag, as Envoy would (ParseFlags);
//   - it reads the bootstrap with bootstrap.Parse (strict) and listens where its static
//     listeners say, every address of each (0.0.0.0 and [::], the latter IPv6-only), and on
//     the admin address (127.0.0.1:15000: Handler, plus /listeners). Any bind failure is
//     fatal, as for Envoy;
//   - the health listener (15021) answers GET /healthz/ready with 200 "LIVE" once every
//     listener is bound: the kubelet's startup, readiness and liveness probes;
//   - the outbound (15001) and inbound (15003) capture listeners read each connection's
//     original destination with getsockopt SO_ORIGINAL_DST (SOL_IP or SOL_IPV6, 80) and relay
//     its bytes both ways to it, passing each half-close on. A connection whose original
//     destination is one of those two ports was not redirected (a direct connection, a port
//     scan) and is closed, as the bootstrap's loop guards blackhole it. The stand-in runs as
//     uid 1500, whose own connections the redirect lets through;
//   - when the client's first bytes are an HTTP/1.x request line, it follows the requests and
//     responses on the relayed stream (without changing a byte: no header is added, so trace
//     context is propagated only if the application does it) and, when the bootstrap's
//     traffic HCMs have a tracer, reports one span per request to the tracing cluster's
//     address (jaeger.osm-system.svc.cluster.local by default):
//   - with envoy.tracers.zipkin, it POSTs a Zipkin v2 JSON span to the collector endpoint,
//     with collector_hostname as Host, service name node.cluster, in the trace of the
//     request's x-b3-traceid (parent x-b3-spanid) or a new random one; sampling follows
//     x-b3-sampled/x-b3-flags, else the HCM's random_sampling;
//   - with envoy.tracers.opentelemetry, it exports an OTLP ExportTraceServiceRequest over
//     gRPC (plaintext HTTP/2, the :authority of envoy_grpc.authority, else the cluster's
//     name), in the trace of the request's W3C traceparent (the only context that tracer
//     reads), sampled by its flag, else by random_sampling. The resource imitates the one
//     Envoy's resource provider builds: service.name (service_name), then the environment
//     detector's OTEL_RESOURCE_ATTRIBUTES (key=value, comma-separated, percent-decoded) and
//     the static_config detector's attributes, merged in order; telemetry.sdk.name says
//     envoy-standin, not envoy;
//   - either way the span is CLIENT on outbound and SERVER on inbound, named from the
//     bootstrap: the HCM's tracing.operation rendered for the request (REQ(h?alt):N, PROTOCOL,
//     DOWNSTREAM_LOCAL_PORT = the original destination's port, HOSTNAME; a missing value
//     renders empty), else Envoy's default "ingress" / "egress HOST"; tagged with the HTTP
//     facts, component=envoy-standin and the HCM's custom_tags (literal; environment, read
//     from the stand-in's own environment at start; request_header, none when absent). The
//     kubelet's probes (User-Agent kube-probe/...) on the inbound listener get none, as the
//     bootstrap's kube-probe route samples them at 0%. Spans are sent one per request, not
//     batched as Envoy's tracers do. These spans prove the network path pod -> Service ->
//     collector and the bootstrap's naming and tagging, NOT Envoy's tracer. HTTP/2 and TLS
//     streams are relayed without spans;
//   - when the HCM has an envoy.access_loggers.stdout access log (text_format_source
//     inline_string), it writes one line per HTTP exchange to stdout rendered from it, and,
//     when the default filter chain's tcp_proxy has one, one line per connection that
//     carried no HTTP/1.x exchange. It renders START_TIME (Envoy's default format), REQ,
//     PROTOCOL, RESPONSE_CODE, RESPONSE_FLAGS, BYTES_RECEIVED and BYTES_SENT (the bodies of
//     an exchange, the bytes of a connection), DURATION, DOWNSTREAM_REMOTE_ADDRESS,
//     UPSTREAM_HOST, TRACE_ID (the span's, or the request's when not sampled) and the span
//     name commands; a missing value is "-". Any other command, logger or filter is refused
//     at start. RESPONSE_FLAGS is "-" but for a failed dial, logged as a TCP line with UF:
//     the stand-in dials before it reads a byte, where Envoy would answer an HTTP client
//     503 UF;
//   - the prometheus listener (15090, 0.0.0.0 and [::]) and the admin interface serve
//     GET /stats/prometheus: the stand-in's OWN counters in Prometheus' text format
//     (envoystandin_connections_total, _upstream_connect_failures_total and
//     _http_requests_total by listener, _spans_sent_total and _span_errors_total by tracer),
//     not Envoy's statistics; any other path there is a 404, as the listener's route table
//     has that path only;
//   - POST /healthcheck/fail on the admin address (what the injected preStop hook, osm-init
//     drain, sends) is logged as "healthcheck_fail", and the health listener answers 503
//     DRAINING from then on, as Envoy's /ready does; Envoy's drain of its listeners
//     (Connection: close, GOAWAY) is NOT reproduced, the stand-in relays bytes;
//   - SIGTERM or SIGINT closes the listeners and exits 0 at once (as Envoy, without a drain);
//     SIGHUP, SIGUSR1 and SIGUSR2 are only logged.
//
// It logs one JSON object per line on stdout (kubectl logs), each with "time" (RFC 3339,
// nanoseconds, UTC) and "event". The access log lines, plain text that never starts with
// '{', are interleaved with them: a reader of events skips lines that are not JSON objects.
//
//	{"event":"start","args":[...],"pid":1,"uid":1500,"gid":1500}
//	{"event":"ready","listeners":[{"name":"admin","address":"127.0.0.1:15000"},{"name":"outbound","address":"0.0.0.0:15001"},...],
//	 "node_id":"POD.NS","service":"bookbuyer","tracer":"envoy.tracers.zipkin","log_level":"info","concurrency":2}
//	{"event":"connection","listener":"outbound"|"inbound","peer":"IP:PORT","local":"IP:PORT","original_dst":"IP:PORT"}
//	{"event":"connection_refused","listener":...,"peer":...,"local":...,"original_dst":...,"reason":"..."}  (original_dst absent when unknown)
//	{"event":"connection_error","listener":...,"peer":...,"original_dst":...,"error":"..."}  (the dial failed)
//	{"event":"connection_closed","listener":...,"peer":...,"original_dst":...,"bytes_to_upstream":N,"bytes_to_downstream":N,"duration_ms":F}
//	{"event":"http_request","listener":...,"method":"GET","host":"...","path":"/...","status":200,"peer":...,"original_dst":...,
//	 "duration_ms":F,"trace_id":"...","span_id":"..."}  (trace_id and span_id when a span is made)
//	{"event":"span_sent","listener":...,"tracer":...,"name":"GET :8080","trace_id":...,"span_id":...,"service":...,
//	 "kind":"CLIENT"|"SERVER","collector":"http://HOST:9411/api/v2/spans","status":202}  (Zipkin)
//	{"event":"span_sent",... "kind":"SPAN_KIND_CLIENT"|"SPAN_KIND_SERVER","collector":"grpc://HOST:4317","grpc_status":"OK"}  (OTLP)
//	{"event":"span_error",... the same, with "error" instead of "status" or "grpc_status"}
//	{"event":"span_skipped","listener":...,"reason":"not sampled"|"kubelet probe ...","tracer":...}
//	{"event":"signal","signal":"SIGTERM"}
//	{"event":"exit","code":0}
//	{"event":"error","error":"..."}  (then exit 1 when fatal: bad flag, bad bootstrap, a port in use)
package envoystandin
