package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// load sends one POST every --interval for --duration to URL over keep-alive connections, as
// a busy caller does, and prints a JSON summary {sent, ok, failed, errors}; it fails when any
// request failed. POST, not GET: Go's client retries an idempotent request on a reused
// connection that broke, which would hide failures; a POST it retries only when not a byte
// of it was written, which is also the one case the sidecars retry.
func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	interval := fs.Duration("interval", 20*time.Millisecond, "time between requests")
	timeout := fs.Duration("timeout", 5*time.Second, "timeout of each request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one URL")
	}
	url := fs.Arg(0)
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var sum struct {
		Sent   int      `json:"sent"`
		OK     int      `json:"ok"`
		Failed int      `json:"failed"`
		Errors []string `json:"errors,omitempty"` // the first few
	}
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for ctx.Err() == nil {
		sum.Sent++
		if err := post(client, url); err != nil {
			sum.Failed++
			if len(sum.Errors) < 10 {
				sum.Errors = append(sum.Errors, time.Now().UTC().Format(time.RFC3339Nano)+" "+err.Error())
			}
		} else {
			sum.OK++
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d requests failed", sum.Failed, sum.Sent)
	}
	return nil
}

// post sends one empty POST and reads the whole answer; a status of 400 or more is a failure.
func post(client *http.Client, url string) error {
	resp, err := client.Post(url, "text/plain", http.NoBody) //nolint:noctx // bounded by the client's timeout
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return nil
}
