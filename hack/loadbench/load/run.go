package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// maxErrorSamples is how many distinct failure messages the report keeps.
const maxErrorSamples = 5

// load is one run's parameters.
type load struct {
	target      *url.URL
	client      *http.Client
	factory     *requestFactory
	concurrency int
	requests    int           // 0: no limit
	duration    time.Duration // 0: no limit
}

// results are what the workers measured.
type results struct {
	mu        sync.Mutex
	latencies []time.Duration // of every answered request (any outcome but transport errors)
	counts    [4]int          // by outcome
	samples   []string
	protocols map[string]int // HTTP versions of the answers (ALPN may refuse HTTP/2)
	elapsed   time.Duration
}

func (r *results) record(o outcome, d time.Duration, proto string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[o]++
	if proto != "" {
		r.latencies = append(r.latencies, d)
		if r.protocols == nil {
			r.protocols = map[string]int{}
		}
		r.protocols[proto]++
	}
	if err != nil && len(r.samples) < maxErrorSamples {
		msg := err.Error()
		for _, s := range r.samples {
			if s == msg {
				return
			}
		}
		r.samples = append(r.samples, msg)
	}
}

// run sends requests from concurrency workers until the request count is reached, the
// duration has passed or ctx ends.
func (l *load) run(ctx context.Context) *results {
	if l.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.duration)
		defer cancel()
	}
	res := &results{}
	var issued atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range l.concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				if l.requests > 0 && issued.Add(1) > int64(l.requests) {
					return
				}
				l.one(ctx, res)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// one sends one AdmissionReview and records its outcome. A request cut short because the
// run's duration ended is not counted.
func (l *load) one(ctx context.Context, res *results) {
	body, uid, err := l.factory.next()
	if err != nil {
		res.record(outcomeError, 0, "", err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target.String(), bytes.NewReader(body))
	if err != nil {
		res.record(outcomeError, 0, "", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, */*")
	begin := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			res.record(outcomeError, 0, "", err)
		}
		return
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	took := time.Since(begin)
	if err != nil {
		if ctx.Err() == nil {
			res.record(outcomeError, 0, "", fmt.Errorf("when reading the answer: %w", err))
		}
		return
	}
	o, err := checkResponse(resp.StatusCode, data, uid)
	res.record(o, took, resp.Proto, err)
}

// withTimeoutParam adds kube-apiserver's ?timeout=Ns to the webhook URL, as it does for
// every webhook call.
func withTimeoutParam(u *url.URL, timeout time.Duration) *url.URL {
	out := *u
	q := out.Query()
	if q.Get("timeout") == "" {
		q.Set("timeout", fmt.Sprintf("%ds", int(timeout.Seconds())))
	}
	out.RawQuery = q.Encode()
	return &out
}
