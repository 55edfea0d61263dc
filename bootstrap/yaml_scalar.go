package bootstrap

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// appendScalar writes a singular non-message field value as protojson would write it (int64s
// and bytes as strings, enums by name, NaN and infinities as strings), in YAML.
func appendScalar(out []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(out, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(out, v.Uint(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return append(strconv.AppendInt(append(out, '"'), v.Int(), 10), '"')
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return append(strconv.AppendUint(append(out, '"'), v.Uint(), 10), '"')
	case protoreflect.FloatKind:
		return appendFloat(out, v.Float(), 32)
	case protoreflect.DoubleKind:
		return appendFloat(out, v.Float(), 64)
	case protoreflect.StringKind:
		return appendString(out, v.String())
	case protoreflect.BytesKind:
		return appendString(out, base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return append(out, "null"...)
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return appendString(out, string(ev.Name()))
		}
		return strconv.AppendInt(out, int64(v.Enum()), 10)
	}
	return append(out, "null"...) // unreachable: message kinds are not scalars
}

// appendFloat writes a float as protojson does: NaN and infinities as strings, exponents
// only for very small or large magnitudes.
func appendFloat(out []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(out, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(out, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(out, f, format, -1, bits)
}

// appendString writes s plain when YAML reads it back as that same string, else quoted.
func appendString(out []byte, s string) []byte {
	if plainSafe(s) {
		return append(out, s...)
	}
	return appendQuoted(out, s)
}

// plainSafe accepts strings that YAML 1.1 and 1.2 parsers both read as strings when plain:
// durations such as 1s or 0.25s, and strings that start with a letter or '/', use only
// letters, digits and "-_./", and are not one of the words YAML 1.1 reads as a boolean or
// null. Anything else, such as 127.0.0.1 (a float to some YAML 1.1 parsers), is quoted.
func plainSafe(s string) bool {
	if isDuration(s) {
		return true
	}
	if s == "" || !(asciiAlnum(s[0]) && s[0] > '9' || s[0] == '/') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !asciiAlnum(c) && strings.IndexByte("-_./", c) < 0 {
			return false
		}
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
			return false
		}
	}
	return true
}

// isDuration reports protojson's rendering of a Duration: digits, an optional fraction, 's'.
func isDuration(s string) bool {
	digits, dot := 0, false
	for i := 0; i < len(s)-1; i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot, digits = true, 0
		default:
			return false
		}
	}
	return len(s) > 1 && s[len(s)-1] == 's' && digits > 0
}

// appendQuoted writes s as a YAML double-quoted scalar, escaping what YAML requires and any
// rune that is not printable.
func appendQuoted(out []byte, s string) []byte {
	out = append(out, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			out = append(out, '\\', byte(r))
		case r == '\n':
			out = append(out, `\n`...)
		case r == '\t':
			out = append(out, `\t`...)
		case r == utf8.RuneError || !unicode.IsPrint(r):
			if r <= 0xffff {
				out = append(out, `\u`...)
				out = appendHex(out, uint32(r), 4) //nolint:gosec // G115: a rune from ranging over a string is never negative
			} else {
				out = append(out, `\U`...)
				out = appendHex(out, uint32(r), 8)
			}
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return append(out, '"')
}

func appendHex(out []byte, v uint32, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		out = append(out, "0123456789abcdef"[v>>(4*i)&0xf])
	}
	return out
}
