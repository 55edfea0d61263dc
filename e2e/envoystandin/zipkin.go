package envoystandin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Span is a Zipkin v2 span, as POSTed in a JSON array to /api/v2/spans (zipkin2 JSON v2, the
// format of Envoy's HTTP_JSON collector endpoint version).
type Span struct {
	TraceID        string            `json:"traceId"`
	ID             string            `json:"id"`
	ParentID       string            `json:"parentId,omitempty"`
	Kind           string            `json:"kind"`
	Name           string            `json:"name"`
	Timestamp      int64             `json:"timestamp"` // microseconds since 1970
	Duration       int64             `json:"duration"`  // microseconds
	LocalEndpoint  Endpoint          `json:"localEndpoint"`
	RemoteEndpoint *Endpoint         `json:"remoteEndpoint,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
}

// Endpoint is a Zipkin endpoint.
type Endpoint struct {
	ServiceName string `json:"serviceName,omitempty"`
	IPv4        string `json:"ipv4,omitempty"`
	IPv6        string `json:"ipv6,omitempty"`
	Port        uint16 `json:"port,omitempty"`
}

// endpointOf is the endpoint of an address.
func endpointOf(service string, ap netip.AddrPort) Endpoint {
	e := Endpoint{ServiceName: service, Port: ap.Port()}
	if a := ap.Addr().Unmap(); a.Is4() {
		e.IPv4 = a.String()
	} else if a.IsValid() {
		e.IPv6 = a.String()
	}
	return e
}

// Exchange is one HTTP request and its response seen on a relayed connection.
type Exchange struct {
	Listener     string // outbound or inbound
	Method, Host string
	Path         string // the request target as sent
	Status       int
	Start, End   time.Time
	Local, Peer  netip.AddrPort // the stand-in's side and the downstream peer
	Upstream     netip.AddrPort // the original destination
	Header       http.Header    // the request's headers
	Proto        string         // HTTP/1.1
	// RequestBytes and ResponseBytes are the bodies' lengths, as Envoy counts
	// BYTES_RECEIVED and BYTES_SENT of an HTTP exchange.
	RequestBytes, ResponseBytes int64
	// TraceID is the trace the exchange is in (its span's, or the caller's when there is no
	// span), for the access log; empty when unknown.
	TraceID string
}

// Facts are the exchange's facts for a Format.
func (x Exchange) Facts() Facts {
	return Facts{Request: &x, Start: x.Start, Duration: x.End.Sub(x.Start), ResponseCode: x.Status,
		BytesReceived: x.RequestBytes, BytesSent: x.ResponseBytes, DownstreamRemote: x.Peer,
		DownstreamLocal: x.Upstream, UpstreamHost: x.Upstream, TraceID: x.TraceID}
}

// TracerComponent is the "component" tag of the stand-in's spans. Envoy's own spans say
// "proxy"; these must never be taken for them.
const TracerComponent = "envoy-standin"

// NewSpan is the Zipkin span of an exchange: a CLIENT span on the outbound listener, SERVER
// on the inbound one, in the trace of the request's B3 headers (x-b3-traceid, x-b3-spanid as
// the parent) when it carries them, else in a new trace with a random 128-bit id. It is named
// name (SpanName) and tagged with the HTTP facts, the node id, component=envoy-standin and
// tags (the HCM's custom tags, ApplyTags).
func NewSpan(service, nodeID string, x Exchange, name string, tags map[string]string) Span {
	kind := "CLIENT"
	if x.Listener != bootstrap.OutboundListenerName {
		kind = "SERVER"
	}
	traceID, parent := b3TraceID(x.Header), ""
	if traceID != "" {
		if p := strings.ToLower(x.Header.Get("X-B3-Spanid")); isHexID(p, 8) {
			parent = p
		}
	} else {
		traceID = randomHex(16)
	}
	remote := endpointOf("", x.Upstream)
	if kind == "SERVER" {
		remote = endpointOf("", x.Peer)
	}
	all := httpTags(nodeID, x)
	maps.Copy(all, tags)
	return Span{
		TraceID:        traceID,
		ID:             randomHex(8),
		ParentID:       parent,
		Kind:           kind,
		Name:           name,
		Timestamp:      x.Start.UnixMicro(),
		Duration:       max(x.End.Sub(x.Start).Microseconds(), 1),
		LocalEndpoint:  endpointOf(service, x.Local),
		RemoteEndpoint: &remote,
		Tags:           all,
	}
}

// httpTags are the tags of every span of the stand-in: the HTTP facts, the node id and
// component=envoy-standin (Envoy's own spans say "proxy").
func httpTags(nodeID string, x Exchange) map[string]string {
	return map[string]string{
		"component":        TracerComponent,
		"node_id":          nodeID,
		"http.method":      x.Method,
		"http.url":         "http://" + x.Host + x.Path,
		"http.status_code": fmt.Sprint(x.Status),
		"http.protocol":    x.Proto,
		"upstream_address": x.Upstream.String(),
		"peer.address":     x.Peer.Addr().String(),
		"listener":         x.Listener,
	}
}

// SpanName names the span of an exchange as the stand-in imitates Envoy (that Envoy names it
// so is config checked only, bootstrap/rules*_test.go): the HCM's tracing.operation
// rendered for it (a value that is not there renders empty), else Envoy's default, "ingress"
// on an inbound listener and "egress HOST" on an outbound one (Tracing::TracerImpl::startSpan).
func SpanName(operation *Format, x Exchange) string {
	if operation != nil {
		return operation.Render(x.Facts(), "")
	}
	if x.Listener == bootstrap.OutboundListenerName {
		return "egress " + x.Host
	}
	return "ingress"
}

// b3TraceID is the request's x-b3-traceid (64 or 128 bits), lower-case, or "" when it has
// none that is valid.
func b3TraceID(h http.Header) string {
	if id := strings.ToLower(h.Get("X-B3-Traceid")); isHexID(id, 8) || isHexID(id, 16) {
		return id
	}
	return ""
}

// Sampled says whether the exchange is reported: the request's B3 decision when it has one
// (x-b3-sampled 1/true or 0/false, x-b3-flags 1 for debug), else random at percent.
func Sampled(h http.Header, percent float64) bool {
	if h.Get("X-B3-Flags") == "1" {
		return true
	}
	switch strings.ToLower(h.Get("X-B3-Sampled")) {
	case "1", "true":
		return true
	case "0", "false":
		return false
	}
	if percent >= 100 {
		return true
	}
	var b [2]byte
	_, _ = rand.Read(b[:])
	return float64(int(b[0])<<8|int(b[1]))/65536*100 < percent
}

// PostSpans sends spans to a Zipkin collector's url, with the given Host header (empty: the
// URL's), and returns the HTTP status (202 from Jaeger and Zipkin).
func PostSpans(ctx context.Context, client *http.Client, url, host string, spans []Span) (int, error) {
	body, err := json.Marshal(spans)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if host != "" {
		req.Host = host
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("the collector answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return resp.StatusCode, nil
}

// isHexID says whether s is n bytes in lower-case hex, not all zero.
func isHexID(s string, n int) bool {
	if len(s) != 2*n || strings.Trim(s, "0") == "" {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
