package bootstrap

import (
	"errors"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	sigsyaml "sigs.k8s.io/yaml"
)

// Marshal renders b as YAML with proto field names. The output is deterministic: fields
// appear in the order the .proto files declare them, map keys sorted, strings quoted only
// when a YAML parser could read them as something else. Generate's YAML is Marshal(Build(s)),
// and its bytes are pinned (TestGolden, TestPinnedHashes). Marshal supports the kinds of
// values Build's bootstraps hold; others (64-bit integers, bytes, Struct, Timestamp, wrappers
// other than BoolValue and UInt32Value, Durations with fractions...) are errors.
func Marshal(b *bootstrapv3.Bootstrap) ([]byte, error) {
	if b == nil {
		return nil, errors.New("when rendering the bootstrap: it is nil")
	}
	y, err := encodeYAML(b)
	if err != nil {
		return nil, fmt.Errorf("when rendering the bootstrap as YAML: %w", err)
	}
	return y, nil
}

// marshalRenderings renders b as Marshal does, and the IPv4-only rendering (see
// Generated.IPv4YAML): a copy of b without the listeners' additional addresses, rendered by
// the same encoder. Generate is memoised per settings (Cache), so the second rendering is
// paid once per bootstrap, not per pod.
func marshalRenderings(b *bootstrapv3.Bootstrap) (dual, ipv4 []byte, err error) {
	if dual, err = Marshal(b); err != nil {
		return nil, nil, err
	}
	v4, ok := proto.Clone(b).(*bootstrapv3.Bootstrap)
	if !ok {
		return nil, nil, errors.New("when rendering the IPv4-only bootstrap: the copy is not a bootstrap")
	}
	for _, l := range v4.GetStaticResources().GetListeners() {
		l.AdditionalAddresses = nil
	}
	if ipv4, err = Marshal(v4); err != nil {
		return nil, nil, err
	}
	return dual, ipv4, nil
}

// Parse decodes a bootstrap rendered by Marshal, or written by hand, strictly: unknown
// fields, duplicate keys and typed_config types that are not linked in are errors. It does
// not validate the result; call Validate for that.
func Parse(yaml []byte) (*bootstrapv3.Bootstrap, error) {
	j, err := sigsyaml.YAMLToJSONStrict(yaml)
	if err != nil {
		return nil, fmt.Errorf("when parsing the bootstrap YAML: %w", err)
	}
	if string(j) == "null" {
		return nil, errors.New("when parsing the bootstrap YAML: it is empty")
	}
	b := new(bootstrapv3.Bootstrap)
	if err := protojson.Unmarshal(j, b); err != nil {
		return nil, fmt.Errorf("when decoding the bootstrap: %w", err)
	}
	return b, nil
}

// Validate checks b with go-control-plane's rules, including the content of every
// typed_config (a plain ValidateAll checks only an Any's type URL).
func Validate(b *bootstrapv3.Bootstrap) error {
	if err := b.ValidateAll(); err != nil {
		return fmt.Errorf("when validating the bootstrap: %w", err)
	}
	return validateAnys(b.ProtoReflect())
}

// validateAnys unpacks every Any under m and validates its content, recursively.
func validateAnys(m protoreflect.Message) error {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return fmt.Errorf("when unpacking %s: %w", a.GetTypeUrl(), err)
		}
		if v, ok := inner.(pgvValidator); ok {
			if err := v.ValidateAll(); err != nil {
				return fmt.Errorf("when validating %s: %w", a.GetTypeUrl(), err)
			}
		}
		return validateAnys(inner.ProtoReflect())
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		switch {
		case fd.IsList():
			for i, l := 0, v.List(); i < l.Len() && err == nil; i++ {
				err = validateAnys(l.Get(i).Message())
			}
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				return true
			}
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = validateAnys(mv.Message())
				return err == nil
			})
		default:
			err = validateAnys(v.Message())
		}
		return err == nil
	})
	return err
}
