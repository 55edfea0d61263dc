package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// healthcheckFailPath is Envoy's admin endpoint that fails its health checks: Envoy then
// drain-closes the connections of its listeners whose drain_type is DEFAULT (the inbound
// and health listeners; the outbound one is MODIFY_ONLY), and /ready answers DRAINING
// (bootstrap's rules hold the listeners to it).
const healthcheckFailPath = bootstrap.AdminHealthcheckFailPath

// drainer is `osm-init drain`, Envoy's preStop hook (see inject's envoyContainer): it asks
// Envoy to drain and returns once redirect.DrainHold has passed since it started, which keeps
// Envoy up that long (the kubelet sends it SIGTERM only after the hook returned).
type drainer struct {
	admin  string // host:port of Envoy's admin interface
	hold   time.Duration
	client *http.Client
	sleep  func(context.Context, time.Duration)
}

func newDrainer() drainer {
	return drainer{
		admin:  net.JoinHostPort(bootstrap.AdminAddress, strconv.Itoa(bootstrap.AdminPort)),
		hold:   redirect.DrainHold,
		client: &http.Client{Timeout: 2 * time.Second},
		sleep: func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		},
	}
}

// run drains, and holds for what is left of the hold. A failure to reach Envoy is reported
// (the kubelet records a preStop hook's output only when it fails, as the event
// FailedPreStopHook) but the hold still runs: the app may still serve, and the hook must not
// shorten the pod's termination.
func (d drainer) run(ctx context.Context, stderr io.Writer) int {
	start := time.Now()
	code := 0
	if err := d.failHealthchecks(ctx); err != nil {
		fmt.Fprintln(stderr, "osm-init drain:", err)
		code = 1
	}
	if left := d.hold - time.Since(start); left > 0 {
		d.sleep(ctx, left)
	}
	return code
}

// failHealthchecks POSTs healthcheckFailPath to Envoy's admin interface.
func (d drainer) failHealthchecks(ctx context.Context) error {
	url := "http://" + d.admin + healthcheckFailPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, http.NoBody)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("when asking Envoy to drain: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("when asking Envoy to drain: POST %s answered %s", url, resp.Status)
	}
	return nil
}
