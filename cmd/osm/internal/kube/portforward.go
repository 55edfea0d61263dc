package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	streamhttp "k8s.io/streaming/pkg/httpstream"
)

// Forward is a running port-forward from a free port on 127.0.0.1 to a pod's port.
type Forward struct {
	// Addr is the local address (127.0.0.1:PORT) that reaches the pod's port.
	Addr   string
	cancel context.CancelFunc
	done   chan struct{}
	errOut *syncBuffer
}

// Close ends the forward and waits until its listener is closed.
func (f *Forward) Close() {
	f.cancel()
	<-f.done
}

// Problems returns what the forwarder reported about failed connections (for example the pod
// refusing the connection), or "" when it reported nothing.
func (f *Forward) Problems() string {
	return strings.TrimSpace(f.errOut.String())
}

// ForwardPort forwards a free local port on 127.0.0.1 to port podPort of pod ns/name through
// the API server, as kubectl port-forward does: WebSockets first, SPDY when the server does
// not upgrade WebSockets. The kubelet connects to the port inside the pod's network
// namespace, so a port bound to the pod's loopback (Envoy's admin) is reachable.
func ForwardPort(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, ns, name string, podPort int) (*Forward, error) {
	where := fmt.Sprintf("pod %s/%s port %d", ns, name, podPort)
	dialer, err := podDialer(cfg, cs, ns, name)
	if err != nil {
		return nil, fmt.Errorf("when preparing a port-forward to %s: %w", where, err)
	}
	fctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	errOut := &syncBuffer{}
	fw, err := portforward.NewOnAddressesForStreamingWithContext(fctx, dialer, []string{"127.0.0.1"},
		[]string{"0:" + strconv.Itoa(podPort)}, ready, io.Discard, errOut)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("when preparing a port-forward to %s: %w", where, err)
	}
	f := &Forward{cancel: cancel, done: make(chan struct{}), errOut: errOut}
	errCh := make(chan error, 1)
	go func() {
		defer close(f.done)
		errCh <- fw.ForwardPorts()
	}()
	select {
	case <-ready:
	case err := <-errCh:
		cancel()
		if err == nil {
			err = errors.New("the forward ended before it was ready")
		}
		return nil, fmt.Errorf("when port-forwarding to %s (is the pod Running, and may you create pods/portforward?): %w", where, err)
	case <-ctx.Done():
		f.Close()
		return nil, fmt.Errorf("when port-forwarding to %s: %w", where, ctx.Err())
	}
	ports, err := fw.GetPorts()
	if err == nil && len(ports) == 0 {
		err = errors.New("no local port is listening")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("when reading the local port of the forward to %s: %w", where, err)
	}
	f.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local)))
	return f, nil
}

func podDialer(cfg *rest.Config, cs kubernetes.Interface, ns, name string) (streamhttp.Dialer, error) {
	url := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(name).
		SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("when making the SPDY transport: %w", err)
	}
	spdyDialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	wsDialer, err := portforward.NewSPDYOverWebsocketDialerForStreaming(url, cfg)
	if err != nil {
		return nil, fmt.Errorf("when making the WebSocket dialer: %w", err)
	}
	return portforward.NewFallbackDialerForStreaming(wsDialer, spdyDialer, func(err error) bool {
		return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err)
	}), nil
}

// syncBuffer is a bytes.Buffer safe for the forwarder's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
