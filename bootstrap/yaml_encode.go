package bootstrap

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Why a hand-written encoder, measured (BenchmarkMarshalLibraries, the guide's bookbuyer
// bootstrap, go1.26 on a shared 2-CPU amd64 VM, median of 5): this encoder takes ~160 µs,
// 44 KiB and 51 allocations per rendering of 14,844 bytes; the library route, protojson
// (proto names) then sigs.k8s.io/yaml's JSONToYAML, takes ~3.9 ms, 1.2 MiB and 9,813
// allocations for 14,830 bytes: ~24x the time, ~27x the memory. The library route is
// deterministic (JSONToYAML sorts every mapping's keys, which also hides protojson's
// deliberately unstable whitespace) and means the same bootstrap (it parses back equal), so
// replacing this encoder would be possible; it is kept because
//   - its fields follow the .proto declaration order, the order of Envoy's documentation,
//     where the library sorts them alphabetically ("@type" stays first only because "@"
//     sorts before the letters);
//   - its bytes are hashed into ConfigMap names and pod labels, and they depend on this file
//     alone, not on how protojson and a YAML emitter format values in their next versions:
//     a library upgrade that changed a byte would mark every injected workload outdated;
//   - and Generate, paid on every admission miss and every re-bootstrap pass over new
//     settings, renders twice (dual-stack and IPv4-only), where ~8 ms of CPU would be felt.
//
// yamlEncoder writes a message as block-style YAML following protojson's mapping with proto
// field names: fields in declaration order, map keys sorted, Any as "@type" plus the packed
// message's fields, Duration and BoolValue in their JSON forms. Its output is stable byte for
// byte: those bytes are hashed into ConfigMap names and pod labels (see TestGolden and
// TestPinnedHashes), so a change of them rolls every injected workload on upgrade.
//
// It reads the message's deterministic binary encoding, guided by the descriptors, rather
// than walking it with protoreflect: that is several times cheaper (protoreflect goes through
// reflect for every field it looks at, set or not), and an Any's content is read from its
// bytes like any other message, without being decoded.
//
// It supports what Build produces under any valid Settings, and nothing more: strings, bools,
// int32s, uint32s, doubles and enums; messages, lists of messages and strings, and
// string-keyed maps of messages; Any, Duration (whole non-negative seconds), BoolValue and
// UInt32Value. Anything else (64-bit integers, bytes, packed lists, Struct, Timestamp, other
// wrappers...) is an error, never a guess.
//
// Layout: a mapping's entries sit at column indent+2 of the "key:" or "- " that holds them;
// lists under a key are not indented (kubectl's style); empty mappings are {}.
type yamlEncoder struct {
	out []byte
	// fields is a stack of the fields of the messages being written.
	fields []wireField
}

// wireField is one field as it appears in the binary encoding.
type wireField struct {
	fd  protoreflect.FieldDescriptor
	typ protowire.Type
	num uint64 // a varint or fixed64 value
	val []byte // a length-delimited value: a string or an encoded message
}

// encodeYAML renders m.
func encodeYAML(m proto.Message) ([]byte, error) {
	wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	// 16 KiB holds the bootstraps Build makes (the goldens are 12 to 15 KiB; many long tags
	// make one grow once), so the output is not copied as it grows.
	e := yamlEncoder{out: make([]byte, 0, 16<<10), fields: make([]wireField, 0, 64)}
	// The top level is laid out like a list item at column -2: keys at column 0, the first
	// one not indented.
	if err := e.message(m.ProtoReflect().Descriptor(), wire, -2, true); err != nil {
		return nil, err
	}
	// Callers keep the output (memoised, in ConfigMaps): hand back exactly its bytes, not the
	// larger buffer they were written into.
	out := make([]byte, len(e.out))
	copy(out, e.out)
	return out, nil
}

// message writes the message md encoded in b as the value of a "key:" at indent, or, with
// dash, as a list item whose "- " has just been written.
func (e *yamlEncoder) message(md protoreflect.MessageDescriptor, b []byte, indent int, dash bool) error {
	if md.FullName().Parent() == "google.protobuf" {
		return e.wellKnown(md, b, indent, dash)
	}
	lo, err := e.parse(md, b)
	defer func() { e.fields = e.fields[:lo] }()
	if err != nil {
		return err
	}
	if len(e.fields) == lo {
		e.scalarPrefix(dash)
		e.out = append(e.out, "{}\n"...)
		return nil
	}
	if !dash {
		e.out = append(e.out, '\n')
	}
	return e.entries(lo, indent+2, dash)
}

// parse pushes the fields of the message md encoded in b on the stack, in declaration order
// (a list's items keep theirs), and returns where they start.
func (e *yamlEncoder) parse(md protoreflect.MessageDescriptor, b []byte) (int, error) {
	lo := len(e.fields)
	fds := md.Fields()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return lo, fmt.Errorf("%s: %w", md.FullName(), protowire.ParseError(n))
		}
		b = b[n:]
		f := wireField{fd: fds.ByNumber(num), typ: typ}
		if f.fd == nil {
			return lo, fmt.Errorf("%s: unknown field %d", md.FullName(), num)
		}
		switch typ {
		case protowire.VarintType:
			f.num, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			f.num, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.val, n = protowire.ConsumeBytes(b)
		default:
			return lo, fmt.Errorf("%s: wire type %d is not supported", f.fd.FullName(), typ)
		}
		if n < 0 {
			return lo, fmt.Errorf("%s: %w", f.fd.FullName(), protowire.ParseError(n))
		}
		b = b[n:]
		e.fields = append(e.fields, f)
	}
	// Deterministic encodings are in field number order; usually that is declaration order,
	// so this (stable) insertion sort is cheap.
	for i := lo + 1; i < len(e.fields); i++ {
		for j := i; j > lo && e.fields[j].fd.Index() < e.fields[j-1].fd.Index(); j-- {
			e.fields[j], e.fields[j-1] = e.fields[j-1], e.fields[j]
		}
	}
	// A singular field set twice is merged by a decoder; Marshal never writes one.
	for i := lo + 1; i < len(e.fields); i++ {
		if f := e.fields[i].fd; f == e.fields[i-1].fd && !f.IsList() && !f.IsMap() {
			return lo, fmt.Errorf("%s: set twice", f.FullName())
		}
	}
	return lo, nil
}

// entries writes the fields from lo to the top of the stack at column col; with inline, the
// first key follows a "- ". The items of a list or map are consecutive fields.
func (e *yamlEncoder) entries(lo, col int, inline bool) error {
	for i := lo; i < len(e.fields); {
		fd := e.fields[i].fd
		end := i + 1
		for end < len(e.fields) && e.fields[end].fd == fd {
			end++
		}
		e.key(string(fd.Name()), col, inline && i == lo)
		var err error
		switch {
		case fd.IsMap():
			e.out = append(e.out, '\n')
			err = e.mapEntries(fd, i, end, col+2)
		case fd.IsList():
			e.out = append(e.out, '\n')
			for k := i; k < end && err == nil; k++ {
				e.indent(col)
				e.out = append(e.out, '-', ' ')
				err = e.single(fd, e.fields[k], col, true)
			}
		default:
			err = e.single(fd, e.fields[i], col, false)
		}
		if err != nil {
			return err
		}
		i = end
	}
	return nil
}

// key writes "key:" at col (or right here when inline).
func (e *yamlEncoder) key(k string, col int, inline bool) {
	if !inline {
		e.indent(col)
	}
	e.out = appendString(e.out, k)
	e.out = append(e.out, ':')
}

// single writes one value of fd: a scalar, or a message.
func (e *yamlEncoder) single(fd protoreflect.FieldDescriptor, f wireField, indent int, dash bool) error {
	if md := fd.Message(); md != nil {
		if f.typ != protowire.BytesType {
			return fmt.Errorf("%s: wire type %d for a message", fd.FullName(), f.typ)
		}
		return e.message(md, f.val, indent, dash)
	}
	e.scalarPrefix(dash)
	out, err := appendScalar(e.out, fd, f)
	if err != nil {
		return err
	}
	e.out = out
	e.out = append(e.out, '\n')
	return nil
}

// mapEntries writes the entries of a string-keyed map, the fields lo to hi of the stack, at
// col, keys sorted bytewise as protojson sorts them.
func (e *yamlEncoder) mapEntries(fd protoreflect.FieldDescriptor, lo, hi, col int) error {
	if fd.MapKey().Kind() != protoreflect.StringKind {
		return fmt.Errorf("%s: map keys of kind %v are not supported", fd.FullName(), fd.MapKey().Kind())
	}
	type entry struct {
		key   string
		value wireField
	}
	entries := make([]entry, 0, hi-lo)
	for i := lo; i < hi; i++ {
		// An entry is a message of key (1) and value (2); either may be absent.
		kv := entry{value: wireField{fd: fd.MapValue(), typ: protowire.BytesType}}
		top, err := e.parse(fd.Message(), e.fields[i].val)
		for _, f := range e.fields[top:] {
			switch {
			case f.fd.Number() == 2:
				kv.value = f
			case f.typ != protowire.BytesType:
				err = fmt.Errorf("%s: wire type %d for a string key", fd.FullName(), f.typ)
			default:
				kv.key = string(f.val)
			}
		}
		e.fields = e.fields[:top]
		if err != nil {
			return err
		}
		if err := checkUTF8(fd.MapKey(), []byte(kv.key)); err != nil {
			return err
		}
		entries = append(entries, kv)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for i, kv := range entries {
		if i > 0 && kv.key == entries[i-1].key {
			return fmt.Errorf("%s: key %q set twice", fd.FullName(), kv.key)
		}
		e.key(kv.key, col, false)
		if err := e.single(fd.MapValue(), kv.value, col, false); err != nil {
			return err
		}
	}
	return nil
}

// scalarPrefix separates a scalar from its "key:"; after "- " nothing is needed.
func (e *yamlEncoder) scalarPrefix(dash bool) {
	if !dash {
		e.out = append(e.out, ' ')
	}
}

const spaces = "                                                                "

func (e *yamlEncoder) indent(n int) {
	for n > len(spaces) {
		e.out = append(e.out, spaces...)
		n -= len(spaces)
	}
	e.out = append(e.out, spaces[:n]...)
}
