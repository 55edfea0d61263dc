package bootstrap

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// yamlEncoder writes a message as block-style YAML following protojson's mapping with proto
// field names: fields in declaration order, map keys sorted, Any as "@type" plus the packed
// message's fields, well-known types in their JSON forms. It walks the message with
// protoreflect instead of going through JSON, which makes it several times cheaper than
// protojson plus a YAML round trip, and its output is stable byte for byte.
//
// Layout: a mapping's entries sit at column indent+2 of the "key:" or "- " that holds them;
// lists under a key are not indented (kubectl's style); empty mappings and lists are {} and [].
type yamlEncoder struct {
	out []byte
	// fields is a stack of the populated fields of the messages being written.
	fields []fieldValue
	// packed holds the messages behind Anys, when known; other Anys are decoded.
	packed packedAnys
	// fixed supplies the YAML of shared parts already rendered, if any.
	fixed *fixedParts
}

type fieldValue struct {
	fd protoreflect.FieldDescriptor
	v  protoreflect.Value
}

// encodeYAML renders m. The builder, if any, supplies the messages behind Anys and the YAML
// of fixed parts.
func encodeYAML(m proto.Message, bl *builder) ([]byte, error) {
	e := yamlEncoder{out: make([]byte, 0, 8<<10), fields: make([]fieldValue, 0, 64)}
	if bl != nil {
		e.packed, e.fixed = bl.packed, bl.fixed
	}
	// The top level is laid out like a list item at column -2: keys at column 0, the first
	// one not indented.
	if err := e.message(m.ProtoReflect(), -2, true); err != nil {
		return nil, err
	}
	return e.out, nil
}

// message writes m as the value of a "key:" at indent, or, with dash, as a list item whose
// "- " has just been written.
func (e *yamlEncoder) message(m protoreflect.Message, indent int, dash bool) error {
	if y := e.fixed.lookup(m.Interface(), indent, dash); y != nil {
		e.out = append(e.out, y...)
		return nil
	}
	if m.Descriptor().FullName().Parent() == "google.protobuf" {
		if done, err := e.wellKnown(m, indent, dash); done {
			return err
		}
	}
	lo := e.collect(m)
	defer func() { e.fields = e.fields[:lo] }()
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

// collect pushes m's populated fields on the stack, in declaration order, and returns where
// they start.
func (e *yamlEncoder) collect(m protoreflect.Message) int {
	lo := len(e.fields)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		e.fields = append(e.fields, fieldValue{fd, v})
		return true
	})
	// Range's order is unspecified; it is usually declaration order, so this is cheap.
	for i := lo + 1; i < len(e.fields); i++ {
		for j := i; j > lo && e.fields[j].fd.Index() < e.fields[j-1].fd.Index(); j-- {
			e.fields[j], e.fields[j-1] = e.fields[j-1], e.fields[j]
		}
	}
	return lo
}

// entries writes the collected fields from lo to the top of the stack at column col; with
// inline, the first key follows a "- ".
func (e *yamlEncoder) entries(lo, col int, inline bool) error {
	for i := lo; i < len(e.fields); i++ {
		fd, v := e.fields[i].fd, e.fields[i].v
		name := string(fd.Name())
		if fd.IsExtension() {
			name = "[" + string(fd.FullName()) + "]"
		}
		e.key(name, col, inline && i == lo)
		if err := e.field(fd, v, col); err != nil {
			return err
		}
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

// field writes the value of fd after its "key:" at col.
func (e *yamlEncoder) field(fd protoreflect.FieldDescriptor, v protoreflect.Value, col int) error {
	switch {
	case fd.IsList():
		e.out = append(e.out, '\n')
		return e.list(fd, v.List(), col, false)
	case fd.IsMap():
		e.out = append(e.out, '\n')
		return e.mapEntries(fd, v.Map(), col+2, false)
	}
	return e.single(fd, v, col, false)
}

// single writes one value of fd: a scalar, or a message.
func (e *yamlEncoder) single(fd protoreflect.FieldDescriptor, v protoreflect.Value, indent int, dash bool) error {
	if fd.Message() != nil {
		return e.message(v.Message(), indent, dash)
	}
	if fd.Kind() == protoreflect.StringKind && !utf8.ValidString(v.String()) {
		return fmt.Errorf("%s: invalid UTF-8 %q", fd.FullName(), v.String())
	}
	e.scalarPrefix(dash)
	e.out = appendScalar(e.out, fd, v)
	e.out = append(e.out, '\n')
	return nil
}

// list writes the items of a non-empty list at column col.
func (e *yamlEncoder) list(fd protoreflect.FieldDescriptor, l protoreflect.List, col int, inline bool) error {
	for i := range l.Len() {
		if !inline || i > 0 {
			e.indent(col)
		}
		e.out = append(e.out, '-', ' ')
		if err := e.single(fd, l.Get(i), col, true); err != nil {
			return err
		}
	}
	return nil
}

// mapEntries writes a non-empty map's entries at col, keys sorted as protojson sorts them;
// with inline, the first key follows a "- ".
func (e *yamlEncoder) mapEntries(fd protoreflect.FieldDescriptor, m protoreflect.Map, col int, inline bool) error {
	keys := make([]protoreflect.MapKey, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareMapKeys)
	for i, k := range keys {
		if !utf8.ValidString(k.String()) {
			return fmt.Errorf("%s: invalid UTF-8 in key %q", fd.FullName(), k.String())
		}
		e.key(k.String(), col, inline && i == 0)
		if err := e.single(fd.MapValue(), m.Get(k), col, false); err != nil {
			return err
		}
	}
	return nil
}

// compareMapKeys orders bools false first, integers numerically and strings bytewise.
func compareMapKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case bool:
		if x == b.Bool() {
			return 0
		} else if !x {
			return -1
		}
		return 1
	case int32, int64:
		return cmpOrdered(a.Int(), b.Int())
	case uint32, uint64:
		return cmpOrdered(a.Uint(), b.Uint())
	}
	return strings.Compare(a.String(), b.String())
}

func cmpOrdered[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
