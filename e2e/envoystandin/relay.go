package envoystandin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// capture serves one capture listener (outbound or inbound) as Envoy's original_dst
// listener filter, passthrough cluster and tcp_proxy do together: each connection goes to
// its original destination, bytes untouched, both ways.
type capture struct {
	name string
	// ownPorts are the capture listeners' ports: a connection whose original destination is
	// one of them was not redirected (a port scan, a client given the pod's address and
	// 15001) and is closed, as the bootstrap's loop guards send it to the blackhole;
	// relaying it would make the stand-in dial itself without end.
	ownPorts []uint16
	events   *Events
	dialer   *net.Dialer
	// exchange, when set, is told of every HTTP/1.x exchange seen on a relayed connection.
	exchange func(Exchange)
	// tcpLog, when set, renders the access log line of a connection that carried no HTTP
	// exchange (tcp_proxy's), written with accessLog.
	tcpLog    *Format
	accessLog func(string)
	metrics   *Metrics
}

// dialTimeout is the passthrough clusters' connect timeout, Envoy's default (5 s).
const dialTimeout = 5 * time.Second

// serve accepts connections until ln is closed.
func (c *capture) serve(ctx context.Context, ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.events.Emit("error", map[string]any{"listener": c.name, "error": "accept: " + err.Error()})
			}
			return
		}
		go c.handle(ctx, conn.(*net.TCPConn))
	}
}

func (c *capture) handle(ctx context.Context, down *net.TCPConn) {
	defer down.Close()
	peer, local := addrPort(down.RemoteAddr()), addrPort(down.LocalAddr())
	fields := map[string]any{"listener": c.name, "peer": peer.String(), "local": local.String()}
	dst, err := OriginalDst(down)
	if err != nil {
		fields["reason"] = err.Error()
		c.events.Emit("connection_refused", fields)
		return
	}
	fields["original_dst"] = dst.String()
	if slices.Contains(c.ownPorts, dst.Port()) {
		fields["reason"] = "not redirected: the original destination is one of the stand-in's capture ports (Envoy's loop guard sends it to the blackhole)"
		c.events.Emit("connection_refused", fields)
		return
	}
	c.events.Emit("connection", fields)
	c.metrics.Inc("envoystandin_connections_total", c.name)
	began := time.Now()
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	upConn, err := c.dialer.DialContext(dctx, "tcp", dst.String())
	cancel()
	if err != nil {
		c.events.Emit("connection_error", map[string]any{"listener": c.name, "peer": peer.String(), "original_dst": dst.String(), "error": err.Error()})
		c.metrics.Inc("envoystandin_upstream_connect_failures_total", c.name)
		// The stand-in dials before it reads a byte, so it cannot tell an HTTP client here:
		// the line is tcp_proxy's, with Envoy's flag for an upstream connection failure.
		c.logTCP(Facts{Start: began, Duration: time.Since(began), ResponseFlags: "UF", DownstreamRemote: peer,
			DownstreamLocal: dst, UpstreamHost: dst})
		return
	}
	up := upConn.(*net.TCPConn)
	defer up.Close()
	var t *tap
	var exchanges atomic.Int64
	if c.exchange != nil {
		t = newTap(func(req *http.Request, status int, start, end time.Time, reqBytes, respBytes int64) {
			exchanges.Add(1)
			c.exchange(Exchange{Listener: c.name, Method: req.Method, Host: req.Host, Path: req.RequestURI,
				Status: status, Start: start, End: end, Local: local, Peer: peer, Upstream: dst, Header: req.Header,
				Proto: req.Proto, RequestBytes: reqBytes, ResponseBytes: respBytes})
		})
		defer t.stop()
	}
	toUp, toDown := relay(down, up, t)
	if t != nil {
		t.finish()
	}
	if exchanges.Load() == 0 {
		// Envoy's HTTP inspector would have sent it to tcp_proxy: not HTTP/1.x to the tap.
		c.logTCP(Facts{Start: began, Duration: time.Since(began), BytesReceived: toUp, BytesSent: toDown,
			DownstreamRemote: peer, DownstreamLocal: dst, UpstreamHost: dst})
	}
	c.events.Emit("connection_closed", map[string]any{"listener": c.name, "peer": peer.String(), "original_dst": dst.String(),
		"bytes_to_upstream": toUp, "bytes_to_downstream": toDown, "duration_ms": float64(time.Since(began).Microseconds()) / 1000})
}

// logTCP writes tcp_proxy's access log line of a connection, when it has one.
func (c *capture) logTCP(f Facts) {
	if c.tcpLog != nil && c.accessLog != nil {
		c.accessLog(c.tcpLog.Render(f, "-"))
	}
}

// relay copies bytes both ways until both directions are done. A direction ends with the
// sender's FIN, which is passed on (half-close: the other direction keeps flowing, as
// tcp_proxy does), or with an error, which closes both connections.
func relay(down, up *net.TCPConn, t *tap) (toUp, toDown int64) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var feed func([]byte)
		var done func()
		if t != nil {
			feed, done = t.toUpstream, t.upstreamDone
		}
		toUp = copyHalf(up, down, feed, done)
	}()
	var feed func([]byte)
	var done func()
	if t != nil {
		feed, done = t.toDownstream, t.downstreamDone
	}
	toDown = copyHalf(down, up, feed, done)
	wg.Wait()
	return toUp, toDown
}

// copyHalf copies src to dst until src's EOF, then half-closes dst; on an error it closes
// both, which ends the other direction too.
func copyHalf(dst, src *net.TCPConn, feed func([]byte), done func()) int64 {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				_ = src.Close()
				_ = dst.Close()
				return n
			}
			n += int64(k)
			if feed != nil {
				feed(buf[:k])
			}
		}
		if errors.Is(err, io.EOF) {
			_ = dst.CloseWrite()
			if done != nil {
				done()
			}
			return n
		}
		if err != nil {
			_ = src.Close()
			_ = dst.Close()
			return n
		}
	}
}

// addrPort is a TCP address as a netip.AddrPort (IPv4 unmapped).
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
