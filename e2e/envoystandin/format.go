package envoystandin

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format is a parsed Envoy substitution format string (the text of an access log line or of
// a span name): literal text and %COMMAND%, %COMMAND(ARG)% or %COMMAND(ARG):N% commands.
// Only the commands the bootstrap uses are known; any other is an error, as Envoy refuses a
// bootstrap whose format names a command it does not know.
type Format struct {
	// Source is the format string as the bootstrap has it.
	Source string
	parts  []formatPart
}

type formatPart struct {
	literal     string
	command     string // empty for a literal
	header, alt string // REQ(header?alt)
	maxLen      int    // :N, 0 for none
}

// Commands the stand-in renders: the span name commands (bootstrap.SpanNameCommands) and
// those of bootstrap.AccessLogHTTPFormat and AccessLogTCPFormat.
var formatCommands = []string{"REQ", "PROTOCOL", "DOWNSTREAM_LOCAL_PORT", "HOSTNAME", "START_TIME",
	"RESPONSE_CODE", "RESPONSE_FLAGS", "BYTES_RECEIVED", "BYTES_SENT", "DURATION",
	"DOWNSTREAM_REMOTE_ADDRESS", "UPSTREAM_HOST", "TRACE_ID"}

var commandRE = regexp.MustCompile(`^([A-Z_]+)(?:\(([^()]*)\))?(?::([0-9]+))?$`)

// ParseFormat parses s, accepting the commands in allowed (nil: every one the stand-in
// renders).
func ParseFormat(s string, allowed []string) (*Format, error) {
	if allowed == nil {
		allowed = formatCommands
	}
	f := &Format{Source: s}
	rest := s
	for rest != "" {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			f.parts = append(f.parts, formatPart{literal: rest})
			break
		}
		if i > 0 {
			f.parts = append(f.parts, formatPart{literal: rest[:i]})
		}
		j := strings.IndexByte(rest[i+1:], '%')
		if j < 0 {
			return nil, fmt.Errorf("format %q: a %% without its closing %%", s)
		}
		cmd := rest[i+1 : i+1+j]
		rest = rest[i+2+j:]
		m := commandRE.FindStringSubmatch(cmd)
		if m == nil {
			return nil, fmt.Errorf("format %q: %%%s%% is not a command", s, cmd)
		}
		if !slices.Contains(allowed, m[1]) || !slices.Contains(formatCommands, m[1]) {
			return nil, fmt.Errorf("format %q: the stand-in does not know the command %s", s, m[1])
		}
		p := formatPart{command: m[1]}
		switch {
		case m[1] == "REQ" && m[2] == "":
			return nil, fmt.Errorf("format %q: REQ needs a header", s)
		case m[1] == "REQ":
			p.header, p.alt, _ = strings.Cut(strings.ToLower(m[2]), "?")
		case m[2] != "" && m[1] == "START_TIME":
			return nil, fmt.Errorf("format %q: the stand-in renders START_TIME in its default format only", s)
		case m[2] != "":
			return nil, fmt.Errorf("format %q: %s takes no argument", s, m[1])
		}
		if m[3] != "" {
			n, err := strconv.Atoi(m[3])
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("format %q: bad length %q", s, m[3])
			}
			p.maxLen = n
		}
		f.parts = append(f.parts, p)
	}
	return f, nil
}

// Facts are what a format is rendered from: one HTTP exchange (Request set) or one TCP
// connection (Request nil).
type Facts struct {
	Request          *Exchange // nil for a TCP connection
	Start            time.Time
	Duration         time.Duration
	ResponseCode     int    // 0: no response
	ResponseFlags    string // "": none
	BytesReceived    int64  // from downstream: the request body, or the connection's bytes
	BytesSent        int64  // to downstream
	DownstreamRemote netip.AddrPort
	DownstreamLocal  netip.AddrPort // the original destination, as original_dst restores it
	UpstreamHost     netip.AddrPort // invalid: none
	TraceID          string         // "": none
}

// Render renders the format. unavailable is what a command with no value becomes: Envoy
// writes "-" in access logs and nothing in span names.
func (f *Format) Render(x Facts, unavailable string) string {
	var b strings.Builder
	for _, p := range f.parts {
		if p.command == "" {
			b.WriteString(p.literal)
			continue
		}
		v := p.value(x)
		if p.maxLen > 0 && len(v) > p.maxLen {
			v = v[:p.maxLen]
		}
		if v == "" {
			v = unavailable
		}
		b.WriteString(v)
	}
	return b.String()
}

func (p formatPart) value(x Facts) string {
	switch p.command {
	case "REQ":
		if x.Request == nil {
			return ""
		}
		if v := requestHeader(x.Request, p.header); v != "" || p.alt == "" {
			return v
		}
		return requestHeader(x.Request, p.alt)
	case "PROTOCOL":
		if x.Request == nil {
			return ""
		}
		return x.Request.Proto
	case "DOWNSTREAM_LOCAL_PORT":
		return portString(x.DownstreamLocal)
	case "HOSTNAME":
		h, _ := os.Hostname()
		return h
	case "START_TIME":
		// Envoy's default: %Y-%m-%dT%H:%M:%E3SZ, UTC.
		return x.Start.UTC().Format("2006-01-02T15:04:05.000Z")
	case "RESPONSE_CODE":
		return strconv.Itoa(x.ResponseCode)
	case "RESPONSE_FLAGS":
		return x.ResponseFlags
	case "BYTES_RECEIVED":
		return strconv.FormatInt(x.BytesReceived, 10)
	case "BYTES_SENT":
		return strconv.FormatInt(x.BytesSent, 10)
	case "DURATION":
		return strconv.FormatInt(x.Duration.Milliseconds(), 10)
	case "DOWNSTREAM_REMOTE_ADDRESS":
		return addrString(x.DownstreamRemote)
	case "UPSTREAM_HOST":
		return addrString(x.UpstreamHost)
	case "TRACE_ID":
		return x.TraceID
	}
	return ""
}

// requestHeader is a request header as Envoy's REQ sees it: the HTTP/2 pseudo-headers map to
// the HTTP/1.x request's method, Host and target.
func requestHeader(x *Exchange, name string) string {
	switch name {
	case ":method":
		return x.Method
	case ":authority", "host":
		return x.Host
	case ":path":
		return x.Path
	case ":scheme":
		return "http"
	}
	return x.Header.Get(name)
}

func portString(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return strconv.Itoa(int(ap.Port()))
}

func addrString(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return ap.String()
}
