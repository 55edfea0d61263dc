package load

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// clientConfig is how to reach the webhook.
type clientConfig struct {
	caFile      string
	insecure    bool
	http1       bool
	concurrency int
	timeout     time.Duration
}

// newClient is a keep-alive HTTPS client like kube-apiserver's webhook client: HTTP/2 unless
// http1, one idle connection per worker, no proxy, and a dialer that only reaches loopback.
func newClient(cfg clientConfig) (*http.Client, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case cfg.insecure && cfg.caFile != "":
		return nil, errors.New("-ca and -insecure exclude each other")
	case cfg.insecure:
		tlsConfig.InsecureSkipVerify = true // asked for with -insecure; loopback only
	case cfg.caFile != "":
		pem, err := os.ReadFile(cfg.caFile)
		if err != nil {
			return nil, fmt.Errorf("when reading -ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca %s holds no PEM certificate", cfg.caFile)
		}
		tlsConfig.RootCAs = pool
	default:
		return nil, errors.New("give the webhook's CA with -ca FILE, or -insecure")
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   !cfg.http1,
		MaxIdleConns:        cfg.concurrency,
		MaxIdleConnsPerHost: cfg.concurrency,
		IdleConnTimeout:     90 * time.Second,
	}
	if cfg.http1 {
		// A non-nil empty map turns HTTP/2 off.
		transport.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{
		Transport: transport,
		Timeout:   cfg.timeout,
		// A webhook answers; it does not redirect. Never follow one off loopback.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}
