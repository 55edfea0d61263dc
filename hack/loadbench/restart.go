package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// readyPoll is how often the balancer reads its backends' /readyz: it stands in for the
// endpoints controller and kube-proxy, which take about that long to stop sending a
// terminating pod new connections.
const readyPoll = time.Second

// restartResult is what a -restart-after run measured.
type restartResult struct {
	summary    ltSummary
	delay      string
	stopTook   time.Duration
	concurrent int
}

// runRestart is -restart-after: two injectors (as the chart's two replicas: leader-elected
// controllers, the webhook on both, one Secret) behind a loopback TCP balancer that sends
// each new connection to a backend whose /readyz passed at its last poll and keeps
// established connections where they are (as kube-proxy does). The load tool runs against the
// balancer at the first -levels concurrency for -d; -restart-after into the run the first
// injector gets SIGTERM, as the kubelet sends it on a rollout. Every request the load tool
// sent must still be answered.
func runRestart(ctx context.Context, o options, c *framework.Cluster, bins binaries, workDir string) (*restartResult, error) {
	lb, err := newBalancer()
	if err != nil {
		return nil, err
	}
	defer lb.close()
	extra := []string{"--webhook-url=" + lb.base, "--leader-elect=true"}
	if o.shutdownDelay != "" {
		extra = append(extra, "--shutdown-delay="+o.shutdownDelay)
	}
	var injs []*injector
	defer func() {
		for _, in := range injs {
			in.stop()
		}
	}()
	for _, name := range []string{"osm-injector-a", "osm-injector-b"} {
		in, err := startInjectorNamed(ctx, c, bins.injector, workDir, o.injectorGOGC, name, extra...)
		if err != nil {
			return nil, err
		}
		injs = append(injs, in)
		lb.add(in)
	}
	go lb.pollReady(ctx)

	caPath := filepath.Join(workDir, "ca.crt")
	if err := writeWebhookCA(ctx, c, caPath); err != nil {
		return nil, err
	}
	front := &injector{webhookURL: lb.base + "/mutate-v1-pod", done: make(chan struct{})}
	b := &bench{o: o, c: c, inj: front, self: bins.self, caPath: caPath}
	log.Printf("warming up through the balancer %s", lb.base)
	if _, _, err := b.load(ctx, 1, o.warmup, 0); err != nil {
		return nil, err
	}

	res := &restartResult{delay: o.shutdownDelay, concurrent: o.levels[0]}
	if res.delay == "" {
		res.delay = "default"
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.restartAfter):
		}
		log.Printf("SIGTERM to %s (pid %d)", injs[0].logPath, injs[0].pid)
		began := time.Now()
		injs[0].stop()
		res.stopTook = time.Since(began)
		log.Printf("it ended after %s (%v)", res.stopTook.Round(time.Millisecond), injs[0].waitErr)
	}()
	log.Printf("load at c=%d for %s; the first injector gets SIGTERM after %s", o.levels[0], o.duration, o.restartAfter)
	s, _, err := b.load(ctx, o.levels[0], 0, o.duration)
	<-stopped
	res.summary = s
	return res, err
}

// print writes the result as a short markdown table.
func (r *restartResult) print(w io.Writer) error {
	s := r.summary
	_, err := fmt.Fprintf(w, "| shutdown delay | c | requests | ok | failed | p99 ms | max ms | SIGTERM to exit |\n"+
		"|---|---|---|---|---|---|---|---|\n| %s | %d | %d | %d | %d | %.1f | %.1f | %s |\n",
		r.delay, r.concurrent, s.Requests, s.OK, s.Failures, s.LatencyMs.P99, s.LatencyMs.Max, r.stopTook.Round(time.Millisecond))
	if err == nil && len(s.Samples) > 0 {
		_, err = fmt.Fprintf(w, "\nfailures, for example:\n- %s\n", strings.Join(s.Samples, "\n- "))
	}
	return err
}

// balancer is a loopback TCP balancer over the injectors' webhook ports.
type balancer struct {
	ln   net.Listener
	base string
	mu   sync.Mutex
	back []*backend
	next atomic.Uint64
	wg   sync.WaitGroup
}

type backend struct {
	in    *injector
	addr  string
	ready atomic.Bool
}

func newBalancer() (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("when listening for the balancer: %w", err)
	}
	lb := &balancer{ln: ln, base: "https://" + ln.Addr().String()}
	lb.wg.Add(1)
	go lb.serve()
	return lb, nil
}

func (lb *balancer) add(in *injector) {
	addr := strings.TrimSuffix(strings.TrimPrefix(in.webhookURL, "https://"), "/mutate-v1-pod")
	b := &backend{in: in, addr: addr}
	b.ready.Store(true) // startInjectorNamed waited for /readyz
	lb.mu.Lock()
	lb.back = append(lb.back, b)
	lb.mu.Unlock()
}

// pollReady marks each backend ready or not from its /readyz, every readyPoll.
func (lb *balancer) pollReady(ctx context.Context) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		lb.mu.Lock()
		back := append([]*backend(nil), lb.back...)
		lb.mu.Unlock()
		for _, b := range back {
			pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			ok := !b.in.exited() && httpOK(pctx, b.in.readyURL) == nil
			cancel()
			if b.ready.Swap(ok) != ok {
				log.Printf("balancer: %s is now ready=%v", b.addr, ok)
			}
		}
	}, readyPoll)
}

// pick is a ready backend, round robin, or nil.
func (lb *balancer) pick() *backend {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for range lb.back {
		b := lb.back[lb.next.Add(1)%uint64(len(lb.back))]
		if b.ready.Load() {
			return b
		}
	}
	return nil
}

func (lb *balancer) serve() {
	defer lb.wg.Done()
	for {
		conn, err := lb.ln.Accept()
		if err != nil {
			return
		}
		go lb.proxy(conn)
	}
}

// proxy joins a client connection to a ready backend until either side closes.
func (lb *balancer) proxy(client net.Conn) {
	defer client.Close()
	b := lb.pick()
	if b == nil {
		return // no endpoint: the connection is refused, as a Service without endpoints does
	}
	server, err := net.DialTimeout("tcp", b.addr, 2*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}

func (lb *balancer) close() {
	if err := lb.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		log.Printf("balancer: %v", err)
	}
	lb.wg.Wait()
}
