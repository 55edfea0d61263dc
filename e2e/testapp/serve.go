package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ports is a repeatable --port flag.
type ports []int

func (p *ports) String() string { return fmt.Sprint(*p) }

func (p *ports) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q is not a port (1..65535)", s)
	}
	*p = append(*p, n)
	return nil
}

// traceHeaders are passed from a /call request to the call it makes, as an instrumented
// application propagates its trace context.
var traceHeaders = []string{"X-Request-Id", "X-B3-Traceid", "X-B3-Spanid", "X-B3-Parentspanid", "X-B3-Sampled",
	"X-B3-Flags", "B3", "Traceparent", "Tracestate"}

// maxLoggedBody bounds a logged request body (--log-bodies) and a /call answer's body.
const maxLoggedBody = 64 << 10

type app struct {
	hostname  string
	failing   atomic.Bool
	logBodies bool
	client    *http.Client
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var httpPorts, tcpPorts ports
	fs.Var(&httpPorts, "port", "HTTP port (repeatable)")
	fs.Var(&tcpPorts, "tcp-port", "TCP echo port (repeatable)")
	termDelay := fs.Duration("term-delay", 0, "how long to keep serving after SIGTERM")
	logBodies := fs.Bool("log-bodies", false, "log request bodies (up to 64 KiB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || len(httpPorts)+len(tcpPorts) == 0 {
		return errors.New("want --port or --tcp-port, and no other argument")
	}
	hostname, _ := os.Hostname()
	a := &app{hostname: hostname, logBodies: *logBodies, client: &http.Client{Timeout: 10 * time.Second}}
	// Subscribe before listening, so that no signal after "start" goes unlogged.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	var servers []*http.Server
	var listeners []net.Listener
	for _, p := range httpPorts {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	for _, p := range tcpPorts {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			return err
		}
		listeners = append(listeners, ln)
		go echo(ln)
	}
	logEvent("start", map[string]any{"ports": httpPorts, "tcp_ports": tcpPorts, "term_delay": termDelay.String(),
		"hostname": hostname, "pid": os.Getpid()})
	var deadline <-chan time.Time
	for {
		select {
		case sig := <-sigs:
			logEvent("signal", map[string]any{"signal": signalName(sig)})
			if (sig == syscall.SIGTERM || sig == syscall.SIGINT) && deadline == nil {
				deadline = time.After(*termDelay)
				// As a well-behaved server stops: each connection is closed after the
				// response it is on (Connection: close), so clients move to new ones.
				for _, srv := range servers {
					srv.SetKeepAlivesEnabled(false)
				}
			}
		case <-deadline:
			// Requests in flight finish (1 s at most); idle connections close.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			for _, srv := range servers {
				if err := srv.Shutdown(ctx); err != nil {
					_ = srv.Close()
				}
			}
			cancel()
			for _, ln := range listeners {
				_ = ln.Close()
			}
			logEvent("exit", map[string]any{"code": 0})
			return nil
		}
	}
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.whoami)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, _ *http.Request) {
		a.failing.Store(true)
		_, _ = io.WriteString(w, "failing\n")
	})
	mux.HandleFunc("POST /recover", func(w http.ResponseWriter, _ *http.Request) {
		a.failing.Store(false)
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /call", a.call)
	return a.logged(mux)
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// logged logs every request once answered.
func (a *app) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fields := map[string]any{"method": r.Method, "path": r.URL.RequestURI(), "host": r.Host,
			"remote_addr": r.RemoteAddr, "local_addr": localAddr(r), "headers": flatHeaders(r.Header)}
		if a.logBodies && r.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(r.Body, maxLoggedBody))
			fields["body"] = string(body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		fields["status"] = sw.status
		logEvent("request", fields)
	})
}

func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"hostname": a.hostname, "method": r.Method, "host": r.Host,
		"path": r.URL.RequestURI(), "remote_addr": r.RemoteAddr, "local_addr": localAddr(r), "headers": flatHeaders(r.Header)})
}

func (a *app) healthz(w http.ResponseWriter, _ *http.Request) {
	if a.failing.Load() {
		http.Error(w, "failing", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

func (a *app) call(w http.ResponseWriter, r *http.Request) {
	url := r.URL.Query().Get("url")
	if url == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "no url parameter"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"url": url, "error": err.Error()})
		return
	}
	for _, h := range traceHeaders {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := a.client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"url": url, "error": err.Error()})
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLoggedBody))
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"url": url, "status": resp.StatusCode, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": url, "status": resp.StatusCode, "body": string(body)})
}

// localAddr is the server side of the request's connection.
func localAddr(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return ""
}

// flatHeaders joins each header's values with ", ".
func flatHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// echo echoes every connection's bytes back until it half-closes.
func echo(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			n, _ := io.Copy(conn, conn)
			logEvent("tcp", map[string]any{"remote_addr": conn.RemoteAddr().String(), "local_addr": conn.LocalAddr().String(), "bytes": n})
		}()
	}
}
