package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// headerFlags is a repeatable -H 'Name: value' flag.
type headerFlags []string

func (h *headerFlags) String() string { return strings.Join(*h, "; ") }

func (h *headerFlags) Set(s string) error {
	if name, _, ok := strings.Cut(s, ":"); !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%q is not 'Name: value'", s)
	}
	*h = append(*h, s)
	return nil
}

// get is `testapp get` and `testapp run-job`: one GET, its status line and body on stdout.
func get(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of the request")
	caFile := fs.String("ca", "", "PEM file of the CAs an https URL's server is checked against (a pod's service-account ca.crt)")
	var headers headerFlags
	fs.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), http.NoBody)
	if err != nil {
		return err
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(name), "Host") {
			req.Host = strings.TrimSpace(value)
			continue
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	client := http.DefaultClient
	if *caFile != "" {
		if client, err = caClient(*caFile); err != nil {
			return err
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Printf("%s %s\n", resp.Proto, resp.Status)
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		return fmt.Errorf("when reading the body: %w", err)
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s answered %s", fs.Arg(0), resp.Status)
	}
	return nil
}

// dial is `testapp dial`: a TCP round trip.
func dial(args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of the exchange")
	message := fs.String("message", "hello", "line to send")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one HOST:PORT")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", fs.Arg(0))
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if _, err := io.WriteString(conn, *message+"\n"); err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	if _, err := io.Copy(os.Stdout, conn); err != nil {
		return fmt.Errorf("when reading the answer: %w", err)
	}
	return nil
}

// sleep is `testapp sleep`: a container that only waits, for kubectl exec.
func sleep(args []string) error {
	if len(args) != 1 {
		return errors.New("want one duration, or infinity")
	}
	ctx, cancel := signalContext()
	defer cancel()
	if args[0] == "infinity" {
		<-ctx.Done()
		return nil
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	return nil
}

// caClient is an HTTP client that trusts only the CAs in the PEM file.
func caClient(file string) (*http.Client, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// resolve is `testapp resolve NAME`: the addresses NAME resolves to through the pod's
// resolver (/etc/resolv.conf), one a line; an error when it resolves to none.
func resolve(args []string) error {
	if len(args) != 1 {
		return errors.New("want one NAME")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, args[0])
	if err != nil {
		return err
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
	return nil
}

// cat is `testapp cat FILE...`: the pod's own files (/etc/resolv.conf, /proc/net/route).
func cat(args []string) error {
	if len(args) == 0 {
		return errors.New("want at least one FILE")
	}
	for _, f := range args {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := os.Stdout.Write(data); err != nil {
			return err
		}
	}
	return nil
}
