package envoystandin

import (
	"fmt"
	"os"
	"strings"

	typev3tag "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
)

// CustomTag is one of the HCM tracing block's custom_tags, applied in imitation of Envoy: a
// literal; an environment variable, read once when the bootstrap is loaded; or a request
// header. A tag whose value comes out empty is not set (as Envoy's CustomTagBase::apply
// reads).
type CustomTag struct {
	Name string
	// Value is the literal's value, or the environment variable's (or its default_value),
	// resolved when the configuration is read.
	Value string
	// Header, for a request header tag, is its lower-case name; Default is its
	// default_value.
	Header, Default string
}

// readCustomTags resolves the tags, reading environment tags from getenv. Metadata tags
// (route, cluster, host metadata) are refused: the stand-in has no such metadata.
func readCustomTags(tags []*typev3tag.CustomTag, getenv func(string) (string, bool)) ([]CustomTag, error) {
	var out []CustomTag
	for _, t := range tags {
		c := CustomTag{Name: t.GetTag()}
		switch v := t.GetType().(type) {
		case *typev3tag.CustomTag_Literal_:
			c.Value = v.Literal.GetValue()
		case *typev3tag.CustomTag_Environment_:
			val, ok := getenv(v.Environment.GetName())
			if !ok || val == "" {
				val = v.Environment.GetDefaultValue()
			}
			c.Value = val
		case *typev3tag.CustomTag_RequestHeader:
			c.Header = strings.ToLower(v.RequestHeader.GetName())
			c.Default = v.RequestHeader.GetDefaultValue()
		default:
			return nil, fmt.Errorf("custom tag %q: the stand-in applies literal, environment and request_header tags only", t.GetTag())
		}
		out = append(out, c)
	}
	return out, nil
}

// applyTags adds the custom tags' values for a request to tags.
func applyTags(tags map[string]string, custom []CustomTag, x Exchange) {
	for _, c := range custom {
		v := c.Value
		if c.Header != "" {
			if v = requestHeader(&x, c.Header); v == "" {
				v = c.Default
			}
		}
		if v != "" {
			tags[c.Name] = v
		}
	}
}

// osLookupEnv is os.LookupEnv, the stand-in's own environment (the envoy container's).
var osLookupEnv = os.LookupEnv
