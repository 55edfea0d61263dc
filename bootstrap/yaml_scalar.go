package bootstrap

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// appendScalar writes a singular non-message field value as protojson would write it, in
// YAML: bools, int32s, uint32s, finite doubles, enums by name and valid UTF-8 strings, the
// kinds Build's messages use. Other kinds and values are errors.
func appendScalar(out []byte, fd protoreflect.FieldDescriptor, f wireField) ([]byte, error) {
	want := protowire.VarintType
	switch fd.Kind() {
	case protoreflect.DoubleKind:
		want = protowire.Fixed64Type
	case protoreflect.StringKind:
		want = protowire.BytesType
	}
	if f.typ != want {
		return nil, fmt.Errorf("%s: %v values of wire type %d are not supported", fd.FullName(), fd.Kind(), f.typ)
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return strconv.AppendBool(out, f.num != 0), nil
	case protoreflect.Int32Kind:
		return strconv.AppendInt(out, int64(int32(f.num)), 10), nil //nolint:gosec // G115: an int32 is encoded sign-extended to 64 bits
	case protoreflect.Uint32Kind:
		return strconv.AppendUint(out, uint64(uint32(f.num)), 10), nil //nolint:gosec // G115: a uint32 field is encoded as its 32 bits
	case protoreflect.DoubleKind:
		v := math.Float64frombits(f.num)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: %v is not supported", fd.FullName(), v)
		}
		// protojson's form: exponents only for very small or large magnitudes.
		format := byte('f')
		if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			format = 'e'
		}
		return strconv.AppendFloat(out, v, format, -1, 64), nil
	case protoreflect.StringKind:
		if err := checkUTF8(fd, f.val); err != nil {
			return nil, err
		}
		return appendString(out, string(f.val)), nil
	case protoreflect.EnumKind:
		n := protoreflect.EnumNumber(int32(f.num)) //nolint:gosec // G115: an enum is encoded as its int32 sign-extended
		if ev := fd.Enum().Values().ByNumber(n); ev != nil {
			return appendString(out, string(ev.Name())), nil
		}
		return nil, fmt.Errorf("%s: enum value %d has no name", fd.FullName(), n)
	}
	return nil, fmt.Errorf("%s: fields of kind %v are not supported", fd.FullName(), fd.Kind())
}

// checkUTF8 refuses invalid UTF-8, as protojson does. (It takes the bytes so that the
// string made of them for writing can stay on the stack.)
func checkUTF8(fd protoreflect.FieldDescriptor, b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%s: invalid UTF-8 %q", fd.FullName(), b)
	}
	return nil
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

// isDuration reports strings of the form digits, an optional fraction, 's' (protojson's
// rendering of a Duration; also a service name such as 0.25s, written plain all the same).
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
