// Command testapp is the application of the real-node end-to-end tests: one static binary,
// /testapp in the image osm-tracing.test/testapp (e2e/testimages), with a server and the small
// clients the tests run inside pods with `kubectl exec` (Debian's busybox wget segfaults; this
// is the client the tests use instead).
//
//	testapp serve --port 8080 [--port 9090 ...] [--tcp-port 7070 ...] [--term-delay 0s] [--log-bodies]
//	testapp get [--timeout 10s] [--ca FILE] [-H 'Name: value' ...] URL
//	testapp resolve NAME
//	testapp cat FILE...
//	testapp dial [--timeout 10s] [--message hello] HOST:PORT
//	testapp sleep DURATION|infinity
//	testapp run-job [--timeout 10s] URL
//
// serve answers on every --port:
//
//   - GET /: JSON {hostname, method, host, path, remote_addr, local_addr, headers}, where
//     local_addr is the server side of the connection and remote_addr the client side: what a
//     test needs to see whether a connection went through a sidecar;
//   - GET /healthz: 200 "ok" until POST /fail, then 500 "failing" until POST /recover;
//   - GET /call?url=U: a GET of U, answered as JSON {url, status, body} (502 with "error" when
//     the call failed). The request's trace headers (x-request-id, x-b3-*, b3, traceparent,
//     tracestate) are passed on, as an instrumented application would;
//
// and echoes bytes on every --tcp-port. It logs JSON lines to stdout, each with "time"
// (RFC 3339, nanoseconds) and "event": start {ports, tcp_ports, term_delay, hostname, pid},
// request {method, path, host, remote_addr, local_addr, status, headers, body with
// --log-bodies}, tcp {remote_addr, local_addr, bytes}, signal {signal}, exit {code}. On
// SIGTERM or SIGINT it goes on serving for --term-delay without keep-alive (each response
// closes its connection), then shuts down gracefully (requests in flight finish, 1 s at
// most) and exits 0: a slow, well-behaved application for termination tests.
//
// get prints the response's status line, then its body; it exits 1 on a transport error or
// a status of 400 or more. dial connects, writes the message and a newline, half-closes and
// prints what comes back until the server closes. sleep waits (SIGTERM ends it with 0).
// run-job is a Job's one request: get, once. get --ca trusts only the CAs of a PEM file for
// https (a pod's service-account ca.crt, to reach kube-apiserver); resolve prints the
// addresses a name resolves to through the pod's resolver, one a line; cat prints the pod's
// own files (/etc/resolv.conf, /proc/net/route).
package main
