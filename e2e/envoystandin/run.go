package envoystandin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// handledSignals are the signals the stand-in logs. SIGTERM and SIGINT stop it; the others
// are only logged (Envoy reopens its access logs on SIGUSR1 and ignores SIGHUP without hot
// restart). SIGQUIT keeps the Go runtime's stack dump.
var handledSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}

// spanFlushTimeout bounds how long a stopping stand-in waits for span POSTs in flight.
const spanFlushTimeout = 2 * time.Second

// Run is the stand-in's main program: it parses args as Envoy's command line, reads the
// bootstrap, binds every listener and the admin interface, reports "ready", and serves until
// SIGTERM or SIGINT (or until ctx ends), when it closes its listeners and returns nil at once:
// like Envoy, it does not drain. Its events go to out, one JSON object per line. An error
// (bad flag, bad bootstrap, a port that cannot be bound) is returned after an "error" event.
func Run(ctx context.Context, args []string, out io.Writer) error {
	events := NewEvents(out)
	fail := func(err error) error {
		events.Emit("error", map[string]any{"error": err.Error()})
		return err
	}
	// Subscribe before anything else, so that a signal sent right after start is logged.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, handledSignals...)
	defer signal.Stop(sigs)
	events.Emit("start", map[string]any{"args": args, "pid": os.Getpid(), "uid": os.Getuid(), "gid": os.Getgid()})

	flags, err := ParseFlags(args)
	if err != nil {
		return fail(err)
	}
	yaml, err := os.ReadFile(flags.ConfigPath)
	if err != nil {
		return fail(fmt.Errorf("envoy stand-in: %w", err))
	}
	loaded := time.Now()
	b, err := bootstrap.Parse(yaml)
	if err != nil {
		return fail(fmt.Errorf("envoy stand-in: %s: %w", flags.ConfigPath, err))
	}
	cfg, err := ReadConfig(b)
	if err != nil {
		return fail(err)
	}
	admin, err := NewHandler(yaml, loaded)
	if err != nil {
		return fail(err)
	}
	if flags.ServiceNode != "" {
		cfg.NodeID = flags.ServiceNode
	}
	if flags.ServiceCluster != "" {
		cfg.ServiceName = flags.ServiceCluster
	}
	if flags.Concurrency > 0 {
		runtime.GOMAXPROCS(flags.Concurrency)
	}

	s := &server{events: events, cfg: cfg, metrics: NewMetrics(), byName: map[string]Listener{}}
	for _, l := range cfg.Listeners {
		s.byName[l.Name] = l
	}
	if t := cfg.Tracer; t != nil && t.OTLP != nil {
		if s.otlp, err = NewOTLPExporter(t.Collector, t.OTLP.Authority, t.OTLP.Resource); err != nil {
			return fail(err)
		}
	}
	if err := s.bind(ctx); err != nil {
		s.closeAll()
		return fail(err)
	}
	s.serve(ctx, admin)
	events.Emit("ready", map[string]any{"listeners": s.bound, "node_id": cfg.NodeID, "service": cfg.ServiceName,
		"tracer": tracerName(cfg.Tracer), "log_level": flags.LogLevel, "concurrency": flags.Concurrency})

	for {
		select {
		case <-ctx.Done():
			s.stop()
			events.Emit("exit", map[string]any{"code": 0, "reason": "context ended"})
			return nil
		case sig := <-sigs:
			events.Emit("signal", map[string]any{"signal": signalName(sig)})
			if sig == syscall.SIGTERM || sig == syscall.SIGINT {
				s.stop()
				events.Emit("exit", map[string]any{"code": 0})
				return nil
			}
		}
	}
}

// server is a running stand-in.
type server struct {
	events    *Events
	cfg       Config
	listeners []boundListener
	bound     []map[string]string // name and address of each bound socket, for "ready"
	http      []*http.Server
	ready     atomic.Bool
	failed    atomic.Bool // POST /healthcheck/fail was called
	spans     sync.WaitGroup
	client    *http.Client
	otlp      *OTLPExporter // the OpenTelemetry tracer's, nil for Zipkin
	metrics   *Metrics
	byName    map[string]Listener
}

type boundListener struct {
	name string
	ln   net.Listener
}

// AdminListenerName names the admin interface among the bound listeners.
const AdminListenerName = "admin"

// bind binds every listener address and the admin address, IPv4 ones with tcp4 and IPv6
// ones with tcp6 (IPV6_V6ONLY, as Envoy binds [::] without ipv4_compat), so that 0.0.0.0 and
// [::] on one port do not collide. Any failure is fatal, as it is for Envoy.
func (s *server) bind(ctx context.Context) error {
	var lc net.ListenConfig
	all := append([]Listener{{Name: AdminListenerName, Addresses: []string{s.cfg.Admin}}}, s.cfg.Listeners...)
	for _, l := range all {
		for _, addr := range l.Addresses {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return fmt.Errorf("envoy stand-in: listener %q: address %q: %w", l.Name, addr, err)
			}
			network := "tcp4"
			if ap.Addr().Is6() {
				network = "tcp6"
			}
			ln, err := lc.Listen(ctx, network, addr)
			if err != nil {
				return fmt.Errorf("envoy stand-in: listener %q cannot bind %s: %w", l.Name, addr, err)
			}
			s.listeners = append(s.listeners, boundListener{name: l.Name, ln: ln})
			s.bound = append(s.bound, map[string]string{"name": l.Name, "address": ln.Addr().String()})
		}
	}
	s.ready.Store(true)
	return nil
}

// serve starts serving every bound listener.
func (s *server) serve(ctx context.Context, admin http.Handler) {
	s.client = &http.Client{Timeout: 5 * time.Second}
	var ownPorts []uint16
	for _, l := range s.listeners {
		if bootstrap.IsCaptureListener(l.name) {
			ownPorts = append(ownPorts, addrPort(l.ln.Addr()).Port())
		}
	}
	adminMux := http.NewServeMux()
	adminMux.HandleFunc("GET /listeners", s.listenersPage)
	adminMux.HandleFunc(healthcheckFailPath, s.healthcheckFail)
	adminMux.Handle("GET "+bootstrap.PrometheusPath, s.metrics)
	adminMux.Handle("/", admin)
	health := http.NewServeMux()
	health.HandleFunc(bootstrap.HealthReadyPath, s.healthReady)
	// The prometheus listener's HCM routes the path to the admin interface and nothing else.
	prom := http.NewServeMux()
	prom.Handle("GET "+bootstrap.PrometheusPath, s.metrics)
	for _, l := range s.listeners {
		switch l.name {
		case AdminListenerName:
			s.serveHTTP(l.ln, adminMux)
		case bootstrap.HealthListenerName:
			s.serveHTTP(l.ln, health)
		case bootstrap.PrometheusListenerName:
			s.serveHTTP(l.ln, prom)
		default:
			c := &capture{name: l.name, ownPorts: ownPorts, events: s.events, dialer: &net.Dialer{}, exchange: s.exchange,
				tcpLog: s.byName[l.name].TCPLog, accessLog: s.events.Line, metrics: s.metrics}
			go c.serve(ctx, l.ln)
		}
	}
}

func (s *server) serveHTTP(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.http = append(s.http, srv)
	go func() { _ = srv.Serve(ln) }()
}

// healthReady answers the kubelet's probes: 200 LIVE once every listener is bound, as
// Envoy's health listener forwards /healthz/ready to the admin /ready.
func (s *server) healthReady(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "only GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if !s.ready.Load() {
		http.Error(w, "PRE_INITIALIZING", http.StatusServiceUnavailable)
		return
	}
	if s.failed.Load() {
		http.Error(w, "DRAINING", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("LIVE\n"))
}

// healthcheckFailPath is Envoy's admin endpoint that fails its health checks, which the
// injected preStop hook (osm-init drain) calls.
const healthcheckFailPath = bootstrap.AdminHealthcheckFailPath

// healthcheckFail stands in for Envoy's POST /healthcheck/fail: it logs the event
// "healthcheck_fail" (when the kubelet ran the hook, and that it reached the admin
// interface), and /healthz/ready answers 503 DRAINING from then on, as Envoy's /ready does.
// Envoy's reaction on its listeners (Connection: close after each response, GOAWAY) is NOT
// reproduced: the stand-in relays bytes, it holds no HTTP connection of its own to drain.
// Like Envoy's admin, it refuses a GET.
func (s *server) healthcheckFail(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "Method "+r.Method+" not allowed, POST required.", http.StatusMethodNotAllowed)
		return
	}
	s.failed.Store(true)
	s.events.Emit("healthcheck_fail", nil)
	_, _ = w.Write([]byte("OK\n"))
}

// listenersPage is the admin /listeners text: name::address, one line per bound socket.
func (s *server) listenersPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	var b strings.Builder
	for _, l := range s.listeners {
		if l.name != AdminListenerName {
			fmt.Fprintf(&b, "%s::%s\n", l.name, l.ln.Addr())
		}
	}
	_, _ = w.Write([]byte(b.String()))
}

// exchange reports one HTTP exchange: an http_request event, the span's fate, and the
// access log line.
func (s *server) exchange(x Exchange) {
	s.metrics.Inc("envoystandin_http_requests_total", x.Listener)
	l := s.byName[x.Listener]
	fields := map[string]any{"listener": x.Listener, "method": x.Method, "host": x.Host, "path": x.Path,
		"status": x.Status, "peer": x.Peer.String(), "original_dst": x.Upstream.String(),
		"duration_ms": float64(x.End.Sub(x.Start).Microseconds()) / 1000}
	defer func() {
		if l.HTTPLog != nil && (l.HTTPLogSkips == nil || !l.HTTPLogSkips(x.Header)) {
			s.events.Line(l.HTTPLog.Render(x.Facts(), "-"))
		}
	}()
	t := s.cfg.Tracer
	if t == nil {
		s.events.Emit("http_request", fields)
		return
	}
	// Envoy's span exists, sampled or not, so its trace id is in the access log either way:
	// the caller's, or a new one.
	x.TraceID = callerTraceID(t, x.Header)
	skip := func(reason string) {
		s.events.Emit("http_request", fields)
		s.events.Emit("span_skipped", map[string]any{"listener": x.Listener, "tracer": t.Name, "reason": reason})
	}
	sampled := Sampled
	if t.OTLP != nil {
		sampled = SampledW3C
	}
	switch {
	case x.Listener == bootstrap.InboundListenerName && strings.HasPrefix(x.Header.Get("User-Agent"), bootstrap.ProbeUserAgentPrefix):
		skip("kubelet probe (the kube-probe route samples 0%)")
		return
	case !sampled(x.Header, t.Sampling):
		skip("not sampled")
		return
	}
	name := SpanName(l.Operation, x)
	tags := map[string]string{}
	applyTags(tags, l.Tags, x)
	sent := map[string]any{"listener": x.Listener, "tracer": t.Name, "service": s.cfg.ServiceName, "name": name}
	var send func() (map[string]any, error)
	if t.OTLP != nil {
		span, traceID, spanID := NewOTLPSpan(s.cfg.NodeID, x, name, tags)
		x.TraceID, sent["trace_id"], sent["span_id"] = traceID, traceID, spanID
		sent["service"], sent["kind"], sent["collector"] = t.OTLP.Resource[bootstrap.AttributeServiceName], span.GetKind().String(), s.otlp.Target
		send = func() (map[string]any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return map[string]any{"grpc_status": "OK"}, s.otlp.Export(ctx, span)
		}
	} else {
		span := NewSpan(s.cfg.ServiceName, s.cfg.NodeID, x, name, tags)
		url := "http://" + t.Collector + t.Endpoint
		x.TraceID, sent["trace_id"], sent["span_id"] = span.TraceID, span.TraceID, span.ID
		sent["kind"], sent["collector"] = span.Kind, url
		send = func() (map[string]any, error) {
			status, err := PostSpans(context.Background(), s.client, url, t.Hostname, []Span{span})
			return map[string]any{"status": status}, err
		}
	}
	fields["trace_id"], fields["span_id"] = sent["trace_id"], sent["span_id"]
	s.events.Emit("http_request", fields)
	s.spans.Add(1)
	go func() {
		defer s.spans.Done()
		result, err := send()
		if err != nil {
			sent["error"] = err.Error()
			s.metrics.Inc("envoystandin_span_errors_total", t.Name)
			s.events.Emit("span_error", sent)
			return
		}
		maps.Copy(sent, result)
		s.metrics.Inc("envoystandin_spans_sent_total", t.Name)
		s.events.Emit("span_sent", sent)
	}()
}

// callerTraceID is the trace id the request carries for the tracer (B3 for Zipkin,
// traceparent for OpenTelemetry), else a new one.
func callerTraceID(t *Tracer, h http.Header) string {
	if t.OTLP != nil {
		if tp, ok := ParseTraceParent(h.Get("Traceparent")); ok {
			return tp.TraceID
		}
		return randomHex(16)
	}
	if id := b3TraceID(h); id != "" {
		return id
	}
	return randomHex(16)
}

// stop closes every listener and server, then waits a little for span POSTs in flight.
func (s *server) stop() {
	s.closeAll()
	done := make(chan struct{})
	go func() { s.spans.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(spanFlushTimeout):
	}
	if s.otlp != nil {
		_ = s.otlp.Close()
	}
}

func (s *server) closeAll() {
	s.ready.Store(false)
	for _, srv := range s.http {
		_ = srv.Close()
	}
	for _, l := range s.listeners {
		if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.events.Emit("error", map[string]any{"listener": l.name, "error": "close: " + err.Error()})
		}
	}
}

func tracerName(t *Tracer) string {
	if t == nil {
		return ""
	}
	return t.Name
}

// signalName is SIGTERM rather than Go's "terminated".
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unixSignalNames[s]; name != "" {
			return name
		}
	}
	return sig.String()
}

var unixSignalNames = map[syscall.Signal]string{
	syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGHUP: "SIGHUP",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
}
