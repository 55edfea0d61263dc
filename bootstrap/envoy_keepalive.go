package bootstrap

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TCP keepalive of both legs of every proxied connection: probes start after TCPKeepaliveTime
// without a byte either way, follow every TCPKeepaliveInterval, and TCPKeepaliveProbes
// unanswered ones close the connection.
//
// Why Envoy must probe: the sidecar cuts each connection in two, and each kernel knows only
// its own leg. Without the sidecar, an application finds a peer that vanished without a FIN or
// RST (its node lost, its pod IP gone, a NAT or load balancer entry expired and now dropping
// packets) by its own TCP keepalive (Go turns it on by default, 15 s) or its next write. With
// the sidecar its keepalive probes reach Envoy over loopback and Envoy's kernel answers them,
// and its gRPC keepalive PINGs are answered by Envoy's HTTP connection manager (HTTP/2 is hop
// by hop): the application can no longer see the far peer. Envoy probes the far leg itself,
// and when it finds it dead it closes the near one (tcp_proxy) or fails the requests in flight
// on it (the HCM), so the application learns what it would have learnt alone.
//
// The values: a vanished peer is found 60 + 4×15 = 120 s after its last sign of life, instead
// of the 2 h 11 min of Linux's defaults (7200 s, 75 s, 9). The first probe after 60 s of
// silence also keeps the connection's entry alive in middleboxes that drop quiet flows without
// a word: Azure's load balancer (4 min by default), AWS's NLB and NAT gateway (350 s). Four
// probes 15 s apart ride out a network hiccup of most of a minute without killing a healthy
// idle connection. The cost is an empty segment and its ACK per idle connection per minute.
//
// Istio sets upstream keepalive only when MeshConfig.tcpKeepalive or a DestinationRule asks
// for it (else the kernel's 2 h) and has nothing for accepted connections short of an
// EnvoyFilter patching the listener's socket_options; Linkerd's proxy enables a 10 s
// keepalive on the connections it accepts inbound and opens outbound. We want Linkerd's
// effect with fewer probes: a tracing sidecar must not make dead connections live longer
// than they would without it.
const (
	TCPKeepaliveTime     = 60 * time.Second
	TCPKeepaliveInterval = 15 * time.Second
	TCPKeepaliveProbes   = 4
)

// tcpKeepalive sets every field: one left unset would take the node's sysctl, which we do not
// know.
func tcpKeepalive() *corev3.TcpKeepalive {
	return &corev3.TcpKeepalive{
		KeepaliveProbes:   wrapperspb.UInt32(TCPKeepaliveProbes),
		KeepaliveTime:     wrapperspb.UInt32(uint32(TCPKeepaliveTime / time.Second)),
		KeepaliveInterval: wrapperspb.UInt32(uint32(TCPKeepaliveInterval / time.Second)),
	}
}
