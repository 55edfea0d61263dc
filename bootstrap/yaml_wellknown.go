package bootstrap

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// wellKnown writes the google.protobuf types that protojson maps specially. It reports false
// for the other google.protobuf messages, which are written like any message.
func (e *yamlEncoder) wellKnown(m protoreflect.Message, indent int, dash bool) (bool, error) {
	fields := m.Descriptor().Fields()
	switch name := m.Descriptor().Name(); name {
	case "Any":
		return true, e.any(m, indent, dash)
	case "Duration", "Timestamp", "FieldMask",
		"BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		s, err := wellKnownScalar(m, name)
		if err != nil {
			return true, err
		}
		e.scalarPrefix(dash)
		e.out = append(append(e.out, s...), '\n')
		return true, nil
	case "Struct":
		f := fields.ByNumber(1)
		if m.Get(f).Map().Len() == 0 {
			e.scalarPrefix(dash)
			e.out = append(e.out, "{}\n"...)
			return true, nil
		}
		if !dash {
			e.out = append(e.out, '\n')
		}
		return true, e.mapEntries(f, m.Get(f).Map(), indent+2, dash)
	case "ListValue":
		f := fields.ByNumber(1)
		l := m.Get(f).List()
		if l.Len() == 0 {
			e.scalarPrefix(dash)
			e.out = append(e.out, "[]\n"...)
			return true, nil
		}
		col := indent
		if dash {
			col = indent + 2
		} else {
			e.out = append(e.out, '\n')
		}
		return true, e.list(f, l, col, dash)
	case "Value":
		fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("kind"))
		if fd == nil {
			return true, errors.New("google.protobuf.Value: none of the oneof fields is set")
		}
		if fd.Kind() == protoreflect.DoubleKind {
			if f := m.Get(fd).Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				return true, fmt.Errorf("google.protobuf.Value: invalid %v", f)
			}
		}
		return true, e.single(fd, m.Get(fd), indent, dash)
	}
	return false, nil
}

// any writes an Any as protojson does: "@type", then the packed message's fields, or its
// JSON form under "value" for a well-known type. An empty Any is {}.
func (e *yamlEncoder) any(m protoreflect.Message, indent int, dash bool) error {
	fields := m.Descriptor().Fields()
	url, value := m.Get(fields.ByNumber(1)).String(), m.Get(fields.ByNumber(2)).Bytes()
	if !utf8.ValidString(url) {
		return fmt.Errorf("google.protobuf.Any: invalid UTF-8 in type_url %q", url)
	}
	if url == "" {
		if len(value) != 0 {
			return errors.New("google.protobuf.Any: type_url is not set")
		}
		e.scalarPrefix(dash)
		e.out = append(e.out, "{}\n"...)
		return nil
	}
	inner, err := e.anyContent(m, url, value)
	if err != nil {
		return err
	}
	if !dash {
		e.out = append(e.out, '\n')
	}
	e.key("@type", indent+2, dash)
	e.out = append(e.out, ' ')
	e.out = append(appendString(e.out, url), '\n')
	if inner.Descriptor().FullName().Parent() == "google.protobuf" && isSpecialWellKnown(inner.Descriptor().Name()) {
		e.key("value", indent+2, false)
		return e.message(inner, indent+2, false)
	}
	lo := e.collect(inner)
	defer func() { e.fields = e.fields[:lo] }()
	return e.entries(lo, indent+2, false)
}

// anyContent is the message in an Any: the one packed by the builder if known, else decoded.
func (e *yamlEncoder) anyContent(m protoreflect.Message, url string, value []byte) (protoreflect.Message, error) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		if msg := e.packed.lookup(a); msg != nil {
			return msg.ProtoReflect(), nil
		}
	}
	return anyMessage(url, value)
}

// isSpecialWellKnown names the google.protobuf messages with their own JSON form.
func isSpecialWellKnown(name protoreflect.Name) bool {
	switch name {
	case "Any", "Duration", "Timestamp", "FieldMask", "Struct", "ListValue", "Value",
		"BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue", "Empty":
		return true
	}
	return false
}

// wellKnownScalar renders the well-known types whose JSON form is a single value.
func wellKnownScalar(m protoreflect.Message, name protoreflect.Name) (string, error) {
	fields := m.Descriptor().Fields()
	first := fields.ByNumber(1)
	switch name {
	case "Duration":
		secs, nanos := m.Get(first).Int(), int32(m.Get(fields.ByNumber(2)).Int()) //nolint:gosec // G115: nanos is an int32 field that protoreflect widens
		if secs < -maxDuration || secs > maxDuration || nanos <= -1e9 || nanos >= 1e9 || secs > 0 && nanos < 0 || secs < 0 && nanos > 0 {
			return "", fmt.Errorf("google.protobuf.Duration: seconds %d, nanos %d out of range", secs, nanos)
		}
		sign := ""
		if secs < 0 || nanos < 0 {
			sign, secs, nanos = "-", -secs, -nanos
		}
		return string(appendString(nil, sign+strconv.FormatInt(secs, 10)+formatFraction(nanos)+"s")), nil
	case "Timestamp":
		secs, nanos := m.Get(first).Int(), int32(m.Get(fields.ByNumber(2)).Int()) //nolint:gosec // G115: nanos is an int32 field that protoreflect widens
		if secs < timestampBounds[0] || secs > timestampBounds[1] || nanos < 0 || nanos >= 1e9 {
			return "", fmt.Errorf("google.protobuf.Timestamp: seconds %d, nanos %d out of range", secs, nanos)
		}
		return string(appendString(nil, time.Unix(secs, 0).UTC().Format("2006-01-02T15:04:05")+formatFraction(nanos)+"Z")), nil
	case "FieldMask":
		l := m.Get(first).List()
		paths := make([]string, l.Len())
		for i := range paths {
			paths[i] = lowerCamel(l.Get(i).String())
		}
		return string(appendString(nil, strings.Join(paths, ","))), nil
	}
	return string(appendScalar(nil, first, m.Get(first))), nil
}

// lowerCamel maps a snake_case field path to protojson's lowerCamelCase.
func lowerCamel(s string) string {
	var b strings.Builder
	up := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			up = true
		case up && c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
			up = false
		default:
			b.WriteByte(c)
			up = false
		}
	}
	return b.String()
}

// anyMessage returns the message an Any holds, from the global registry (where the imports
// of this package put every typed_config type the bootstrap uses).
func anyMessage(url string, value []byte) (protoreflect.Message, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		return nil, fmt.Errorf("when resolving %q: %w", url, err)
	}
	m := mt.New()
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(value, m.Interface()); err != nil {
		return nil, fmt.Errorf("when decoding %q: %w", url, err)
	}
	return m, nil
}

// formatFraction writes nanoseconds as protojson writes the fraction of a Duration or a
// Timestamp: nothing, or a dot and 3, 6 or 9 digits.
func formatFraction(nanos int32) string {
	if nanos == 0 {
		return ""
	}
	s := strconv.FormatInt(int64(nanos)+1e9, 10) // 1 and nine digits, zero-padded
	s = "." + s[1:]
	for strings.HasSuffix(s, "000") {
		s = s[:len(s)-3]
	}
	return s
}

// maxDuration is protojson's bound on a Duration, about 10,000 years.
const maxDuration = 315576000000

// timestampBounds are protojson's bounds on a Timestamp: years 0001 to 9999.
var timestampBounds = [2]int64{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()}
