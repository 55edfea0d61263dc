package bootstrap

import (
	"regexp"
	"slices"
	"strings"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// Extra span tags (Tracing.Tags). The canonical form keeps Settings comparable: one tag per
// line, sorted by name, each NAME=literal:VALUE or NAME=header:HEADER (header names in lower
// case); empty for none.
const (
	// maxTags bounds the extra tags of one sidecar, as the CRD bounds the MeshConfig's.
	maxTags = 32
	// tagLiteral and tagHeader are the kinds of an extra tag.
	tagLiteral = "literal:"
	tagHeader  = "header:"
	// MaxPathTagLength bounds Tracing.MaxPathTagLength (Envoy's default is 256).
	maxPathTagLength = 65536
)

var (
	tagNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	// tagLiteralR asks for one character at least: Envoy's CustomTag.Literal.value has
	// min_len 1, so an empty literal would fail the bootstrap's validation (the CRD's
	// minLength says the same).
	tagLiteralR = regexp.MustCompile(`^[ -+\--~]{1,256}$`)
	tagHeaderRE = regexp.MustCompile(`^[a-z0-9!#$%&'*+.^_|~-]{1,128}$`)
)

const (
	acceptedTags = `must be a comma-separated list of NAME=VALUE (a literal), NAME=literal:VALUE or NAME=header:HEADER (the request header's value), ` +
		`such as team=payments,tenant=header:x-tenant-id: NAME of letters, digits, '.', '_' or '-' (at most 128, not a built-in k8s.* tag), ` +
		`VALUE of 1 to 256 visible ASCII characters or spaces without ',', HEADER an HTTP header name of ASCII letters, digits and !#$%&'*+.^_|~- (at most 128), each NAME once, at most 32 tags`
	acceptedMeshTag = `must be {tag: NAME, literal: VALUE} or {tag: NAME, header: HEADER}: NAME of letters, digits, '.', '_' or '-' ` +
		`(at most 128, not a built-in k8s.* tag), VALUE of 1 to 256 visible ASCII characters or spaces without ',', HEADER an HTTP header name of ASCII letters, digits and !#$%&'*+.^_|~- (at most 128), each NAME once, at most 32 tags`
	acceptedMaxPathTagLength = "must be an integer from 1 to 65536"
)

// builtinTag reports a tag name the sidecar sets itself.
func builtinTag(name string) bool {
	if name == TagPodName || name == TagNamespaceName || name == TagNodeName {
		return true
	}
	for _, t := range workloadTags {
		if t == name {
			return true
		}
	}
	return false
}

// parseTags reads the canonical form into name -> "literal:VALUE" or "header:HEADER".
func parseTags(canonical string) map[string]string {
	m := map[string]string{}
	if canonical == "" {
		return m
	}
	for line := range strings.SplitSeq(canonical, "\n") {
		name, v, _ := strings.Cut(line, "=")
		m[name] = v
	}
	return m
}

// canonicalTags is the canonical form of name -> kind:value.
func canonicalTags(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(n + "=" + m[n])
	}
	return b.String()
}

// tagValue validates one tag's kind and value and returns its canonical "kind:value".
func tagValue(name string, literal, header *string) (string, bool) {
	if !tagNameRE.MatchString(name) || builtinTag(name) || (literal == nil) == (header == nil) {
		return "", false
	}
	if literal != nil {
		return tagLiteral + *literal, tagLiteralR.MatchString(*literal)
	}
	h := asciiLower(*header)
	return tagHeader + h, tagHeaderRE.MatchString(h)
}

// asciiLower lower-cases the ASCII letters of s and nothing else. strings.ToLower would fold
// Unicode too: the KELVIN SIGN U+212A becomes 'k', so a header name the CRD's pattern refuses
// would pass here as another name. A header name is ASCII; anything else stays as written and
// fails tagHeaderRE.
func asciiLower(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// meshTags overlays the MeshConfig's tags on the canonical tags.
func meshTags(current string, tags []v1alpha2.TracingTag) (string, bool) {
	m := parseTags(current)
	seen := map[string]bool{}
	for _, t := range tags {
		v, ok := tagValue(t.Tag, t.Literal, t.Header)
		if !ok || seen[t.Tag] {
			return current, false
		}
		seen[t.Tag] = true
		m[t.Tag] = v
	}
	if len(m) > maxTags {
		return current, false
	}
	return canonicalTags(m), true
}

// annotationTags overlays an annotation's tags (team=payments,tenant=header:x-tenant-id) on
// the canonical tags: a name already set is overridden.
func annotationTags(current, v string) (string, bool) {
	m := parseTags(current)
	seen := map[string]bool{}
	if strings.TrimSpace(v) == "" {
		return current, false
	}
	for item := range strings.SplitSeq(v, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || seen[name] {
			return current, false
		}
		seen[name] = true
		var literal, header *string
		switch {
		case strings.HasPrefix(value, tagHeader):
			h := strings.TrimPrefix(value, tagHeader)
			header = &h
		default:
			l := strings.TrimPrefix(value, tagLiteral)
			literal = &l
		}
		cv, ok := tagValue(name, literal, header)
		if !ok {
			return current, false
		}
		m[name] = cv
	}
	if len(m) > maxTags {
		return current, false
	}
	return canonicalTags(m), true
}

// formatTags renders the MeshConfig's tags for an error message.
func formatTags(tags []v1alpha2.TracingTag) string {
	parts := make([]string, 0, len(tags))
	for _, t := range tags {
		switch {
		case t.Literal != nil && t.Header == nil:
			parts = append(parts, t.Tag+"="+tagLiteral+*t.Literal)
		case t.Header != nil && t.Literal == nil:
			parts = append(parts, t.Tag+"="+tagHeader+*t.Header)
		default:
			parts = append(parts, t.Tag+"=?")
		}
	}
	return strings.Join(parts, ",")
}

// validMaxPathTagLength accepts 1..65536.
func validMaxPathTagLength(n int64) bool { return n >= 1 && n <= maxPathTagLength }
