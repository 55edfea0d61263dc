// Package envoystandin is a STAND-IN for Envoy, for end-to-end tests only. No Envoy binary
// can run on the test machines. It must never be presented as Envoy: it proves the plumbing
// around the sidecar (the injected command line, the bootstrap file, the iptables redirect,
// the probes, the Service and network path to the collector), not Envoy's behaviour.
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
//     traffic HCMs have a Zipkin tracer, POSTs one Zipkin v2 JSON span per request to the
//     tracing cluster's address (jaeger.osm-system.svc.cluster.local:9411 by default) and
//     collector endpoint, with collector_hostname as Host. The span is in the trace of the
//     request's x-b3-traceid (parent x-b3-spanid) or a new random one, service name node.cluster,
//     CLIENT on outbound and SERVER on inbound, tagged component=envoy-standin. Sampling
//     follows x-b3-sampled/x-b3-flags, else the HCM's random_sampling; the kubelet's probes
//     (User-Agent kube-probe/...) on the inbound listener get none, as the bootstrap's
//     kube-probe route samples them at 0%. The custom tags, the span batching and the W3C
//     traceparent of Envoy's tracer are not reproduced. These spans prove the network path
//     pod -> Service -> collector, NOT Envoy's tracer. With an
//     OpenTelemetry tracer it posts nothing and says so (span_skipped): it does not speak
//     OTLP. HTTP/2 and TLS streams are relayed without spans;
//   - POST /healthcheck/fail on the admin address (what the injected preStop hook, osm-init
//     drain, sends) is logged as "healthcheck_fail", and the health listener answers 503
//     DRAINING from then on, as Envoy's /ready does; Envoy's drain of its listeners
//     (Connection: close, GOAWAY) is NOT reproduced, the stand-in relays bytes;
//   - SIGTERM or SIGINT closes the listeners and exits 0 at once (as Envoy, without a drain);
//     SIGHUP, SIGUSR1 and SIGUSR2 are only logged.
//
// It logs one JSON object per line on stdout (kubectl logs), each with "time" (RFC 3339,
// nanoseconds, UTC) and "event":
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
//	{"event":"span_sent","listener":...,"trace_id":...,"span_id":...,"service":...,"kind":"CLIENT"|"SERVER","collector":"http://HOST:9411/api/v2/spans","status":202}
//	{"event":"span_error",... the same, with "error" instead of "status"}
//	{"event":"span_skipped","listener":...,"reason":"not sampled"|"kubelet probe ..."|"...does not speak OTLP","tracer":...}
//	{"event":"signal","signal":"SIGTERM"}
//	{"event":"exit","code":0}
//	{"event":"error","error":"..."}  (then exit 1 when fatal: bad flag, bad bootstrap, a port in use)
package envoystandin
