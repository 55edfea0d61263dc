package envoystandin

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// tap watches the two byte streams of a relayed connection for HTTP/1.x exchanges, without
// touching them: the relay hands it a copy of every chunk it forwarded. If the client's
// first bytes are not an HTTP/1.x request line (another protocol, HTTP/2, TLS), or anything
// later fails to parse, or the connection is upgraded (WebSocket, CONNECT), the tap stops and
// the relay goes on, bytes only.
type tap struct {
	reqR, respR *io.PipeReader
	reqW, respW *io.PipeWriter
	dead        atomic.Bool
	stopOnce    sync.Once
	pending     chan pendingRequest
	report      reportFunc
	done        chan struct{} // closed when the response reader has returned
}

// reportFunc is told of one exchange: the request, the final status, when the request came
// and the response ended, and the lengths of the request and response bodies.
type reportFunc func(req *http.Request, status int, start, end time.Time, reqBytes, respBytes int64)

type pendingRequest struct {
	req   *http.Request
	start time.Time
	// body is the request body's length, set once it is read (the response may come first).
	body *atomic.Int64
}

// maxPipelined bounds the requests sent ahead of their responses; beyond it the tap stops
// rather than slow the relay down.
const maxPipelined = 64

// requestLine is an HTTP/1.x request line, the start of what the tap follows.
var requestLine = regexp.MustCompile(`^[A-Z]+ [^ ]+ HTTP/1\.[01]\r?\n$`)

var errTapStopped = errors.New("not HTTP/1.x any more")

// newTap starts a tap that calls report for every complete exchange (a request and its
// final response, read to the end).
func newTap(report reportFunc) *tap {
	t := &tap{pending: make(chan pendingRequest, maxPipelined), report: report, done: make(chan struct{})}
	t.reqR, t.reqW = io.Pipe()
	t.respR, t.respW = io.Pipe()
	go t.readRequests()
	go t.readResponses()
	return t
}

// toUpstream and toDownstream hand the tap a copy of the bytes just relayed. They block
// while the tap parses them (it only reads, and discards bodies as they come).
func (t *tap) toUpstream(p []byte)   { t.feed(t.reqW, p) }
func (t *tap) toDownstream(p []byte) { t.feed(t.respW, p) }

func (t *tap) feed(w *io.PipeWriter, p []byte) {
	if t.dead.Load() {
		return
	}
	if _, err := w.Write(p); err != nil {
		t.stop()
	}
}

// upstreamDone and downstreamDone end a direction: the peer half-closed it.
func (t *tap) upstreamDone()   { _ = t.reqW.Close() }
func (t *tap) downstreamDone() { _ = t.respW.Close() }

// finish ends both directions, once the relay is over, and waits until every exchange the
// tap saw whole has been reported: the relay hands bytes over synchronously, so nothing is
// left to parse but what the pipes hold.
func (t *tap) finish() {
	t.upstreamDone()
	t.downstreamDone()
	<-t.done
}

// stop gives up on the connection: writers return at once from then on.
func (t *tap) stop() {
	t.stopOnce.Do(func() {
		t.dead.Store(true)
		_ = t.reqR.CloseWithError(errTapStopped)
		_ = t.respR.CloseWithError(errTapStopped)
	})
}

func (t *tap) readRequests() {
	defer close(t.pending)
	br := bufio.NewReaderSize(t.reqR, 8192)
	for {
		line, err := peekLine(br)
		if errors.Is(err, io.EOF) && br.Buffered() == 0 {
			return // the client is done, after whole requests
		}
		if err != nil || !requestLine.Match(line) {
			t.stop()
			return
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			t.stop()
			return
		}
		body := &atomic.Int64{}
		select {
		case t.pending <- pendingRequest{req: req, start: time.Now(), body: body}:
		default:
			t.stop()
			return
		}
		if req.Method == http.MethodConnect || req.Header.Get("Upgrade") != "" {
			// What follows the response is another protocol: the response reader stops there.
			_, _ = io.Copy(io.Discard, br)
			return
		}
		n, err := io.Copy(io.Discard, req.Body)
		body.Store(n)
		if err != nil {
			t.stop()
			return
		}
	}
}

func (t *tap) readResponses() {
	defer close(t.done)
	br := bufio.NewReaderSize(t.respR, 8192)
	for p := range t.pending {
		resp, err := http.ReadResponse(br, p.req)
		// 1xx responses (100 Continue) come before the final one; 101 is final.
		for err == nil && resp.StatusCode/100 == 1 && resp.StatusCode != http.StatusSwitchingProtocols {
			resp, err = http.ReadResponse(br, p.req)
		}
		if err != nil {
			t.stop()
			return
		}
		if resp.StatusCode == http.StatusSwitchingProtocols || p.req.Method == http.MethodConnect {
			t.report(p.req, resp.StatusCode, p.start, time.Now(), p.body.Load(), 0)
			t.stop()
			return
		}
		n, err := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.stop()
			return
		}
		t.report(p.req, resp.StatusCode, p.start, time.Now(), p.body.Load(), n)
	}
	_, _ = io.Copy(io.Discard, br)
}

// peekLine returns the next line without consuming it, or an error if none ends within the
// reader's buffer (a client that is not speaking HTTP/1.x, or a request line too long).
func peekLine(br *bufio.Reader) ([]byte, error) {
	for n := 1; ; n = br.Buffered() + 1 {
		buf, err := br.Peek(n)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i+1], nil
		}
		if err != nil {
			return nil, err
		}
	}
}
