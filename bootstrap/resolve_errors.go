package bootstrap

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sources of a FieldError.
const (
	// SourcePod is the source of an error in a pod's annotations.
	SourcePod = "pod annotation"
	// SourceMeshConfig is the source of an error in the MeshConfig's tracing spec.
	SourceMeshConfig = "MeshConfig"
	// meshTracingPath is the path of the MeshConfig's tracing fields.
	meshTracingPath = "spec.observability.tracing."
)

// The accepted forms, as error messages state them.
const (
	acceptedEnable      = `must be "true" or "false"`
	acceptedAddress     = "must be a DNS name (a lowercase RFC 1123 subdomain such as jaeger.osm-system.svc.cluster.local) or an IP address"
	acceptedPort        = "must be an integer from 1 to 65535"
	acceptedEndpoint    = `must be an HTTP path beginning with "/" (such as /api/v2/spans) of at most 1024 visible ASCII characters, without whitespace or "#"`
	acceptedSampling    = "must be a number from 0 to 100 (percent of new traces sampled, decimals allowed, such as 12.5)"
	acceptedServiceName = "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit (such as bookstore-v1)"
	acceptedPropagation = `must be "b3" (B3 headers only) or "b3+w3c" (B3 and W3C traceparent, both read and written)`
	acceptedProtocol    = `must be "zipkin" (Zipkin v2 JSON over HTTP, default port 9411) or "opentelemetry" (OTLP over gRPC, default port 4317)`
	// acceptedEndpointOTLP is the rule of an endpoint set where the protocol is
	// opentelemetry.
	acceptedEndpointOTLP = `applies to protocol "zipkin" only; with protocol "opentelemetry" (OTLP over gRPC, no HTTP path to choose) leave it unset or ` + DefaultEndpoint
	acceptedSpanName     = "must be at most 256 visible ASCII characters and spaces, with the Envoy commands %REQ(HEADER)% (also %REQ(HEADER?ALT)% and %REQ(HEADER):N%), %PROTOCOL%, %DOWNSTREAM_LOCAL_PORT% and %HOSTNAME% only (such as " + DefaultOutboundSpanName + "); a literal % cannot be written"
	acceptedPortList     = "must be a comma-separated list of ports, each an integer from 1 to 65535 (such as 21,110,143); they add to the built-in server-first ports " + DefaultServerFirstPorts
)

// maxQuotedValue bounds how much of a bad value an error message repeats.
const maxQuotedValue = 128

// FieldError is one malformed tracing setting: a MeshConfig field, or a namespace's or pod's
// annotation. Its message names where it was found, the field, the value and the accepted
// form, e.g.
//
//	pod annotation tracing.openservicemesh.io/port: invalid value "99999": must be an integer from 1 to 65535
type FieldError struct {
	// Source is where the value was found: SourcePod, `namespace "NS" annotation` or
	// SourceMeshConfig.
	Source string
	// Field is the annotation key, or the MeshConfig field's path
	// (spec.observability.tracing.port).
	Field string
	// Value is the value as written.
	Value string
	// Accepted describes what is accepted. For an unknown annotation it lists the known ones.
	Accepted string
	// Unknown is set when Field is an annotation under tracing.openservicemesh.io/ that does
	// not exist (a typo, most likely); Value is then irrelevant.
	Unknown bool
}

// Error implements error.
func (e *FieldError) Error() string {
	field := e.Field
	if strings.IndexFunc(field, notVisibleASCII) >= 0 || len(field) > maxQuotedValue {
		field = quoteValue(field) // not a key the API server would accept; show it safely
	}
	if e.Unknown {
		return e.Source + " " + field + ": unknown tracing annotation; " + e.Accepted
	}
	return e.Source + " " + field + ": invalid value " + quoteValue(e.Value) + ": " + e.Accepted
}

// notVisibleASCII reports runes that would garble a one-line message.
func notVisibleASCII(r rune) bool { return r <= ' ' || r >= 0x7f }

// FieldErrors returns every *FieldError in err's tree (as Resolve and MeshTracing return
// them), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok { //nolint:errorlint // walking the tree by hand
			out = append(out, fe)
			return
		}
		switch u := err.(type) { //nolint:errorlint // walking the tree by hand
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// NamespaceSource is the Source of an error in namespace ns's annotations.
func NamespaceSource(ns string) string {
	return "namespace " + strconv.Quote(ns) + " annotation"
}

func annotationError(source, key, value, accepted string) error {
	return &FieldError{Source: source, Field: key, Value: value, Accepted: accepted}
}

func meshError(field, value, accepted string) error {
	return &FieldError{Source: SourceMeshConfig, Field: meshTracingPath + field, Value: value, Accepted: accepted}
}

// unknownAnnotationError names key, suggests the closest known annotation when it is
// probably a typo, and lists the known ones.
func unknownAnnotationError(source, key string) error {
	var b strings.Builder
	if s := closestAnnotation(key); s != "" {
		fmt.Fprintf(&b, "did you mean %s? ", s)
	}
	b.WriteString("the known ones are ")
	b.WriteString(strings.Join(KnownAnnotations, ", "))
	return &FieldError{Source: source, Field: key, Accepted: b.String(), Unknown: true}
}

// closestAnnotation is the known tracing annotation key is probably a typo of, if any.
func closestAnnotation(key string) string { return DidYouMean(key, KnownAnnotations) }

// maxSuggestDistance is how many edits apart a key and its suggestion may be: enough for
// addr (address), ports (port) or servicename (service-name).
const maxSuggestDistance = 3

// DidYouMean returns the string of known that key is probably a misspelling of: the first
// one at the smallest edit distance (Levenshtein, in bytes, ASCII case ignored), if that is
// at most 3; "" when none is that close, or when key is in known. It is for the messages
// about unknown keys of ours (annotations under tracing.openservicemesh.io/ and
// openservicemesh.io/, say): "unknown annotation X; did you mean Y?". It costs
// O(len(key)·len(k)) per known key and stops early on far ones, so a hostile key is cheap.
func DidYouMean(key string, known []string) string {
	folded := asciiLower(key)
	best, bestD := "", maxSuggestDistance+1
	for _, k := range known {
		if k == key {
			return ""
		}
		if d := editDistance(folded, asciiLower(k), bestD); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b in bytes, or limit when it is at least
// limit (annotation keys are short; the limit keeps a hostile key cheap).
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// quoteValue quotes v for a message, cut to maxQuotedValue bytes (on a rune boundary).
func quoteValue(v string) string {
	if len(v) <= maxQuotedValue {
		return strconv.Quote(v)
	}
	cut := maxQuotedValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + fmt.Sprintf("... (%d bytes)", len(v))
}
