package bootstrap

import (
	"fmt"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// pgvValidator is implemented by every go-control-plane message (protoc-gen-validate).
type pgvValidator interface{ ValidateAll() error }

// anyMarshal is the binary encoding used inside every Any, so a typed_config's bytes depend
// only on its content.
var anyMarshal = proto.MarshalOptions{Deterministic: true}

// builder builds one bootstrap. It remembers the message behind each Any it packs, so that
// Generate can render the bootstrap without decoding its own typed_configs again.
type builder struct {
	packed packedAnys
	// fixed, when set, supplies the parts no setting changes, shared and read-only. Only
	// Generate sets it: its bootstrap never leaves the package, whereas Build's caller owns
	// (and may change) every part of what it gets.
	fixed *fixedParts
	// router is the router filter all HCMs share.
	router *hcmv3.HttpFilter
}

// packedAnys maps Anys to the messages packed in them.
type packedAnys []packedAny

type packedAny struct {
	any *anypb.Any
	msg proto.Message
}

// lookup returns the message packed in a, or nil when a was not packed by this builder.
func (p packedAnys) lookup(a *anypb.Any) proto.Message {
	for _, e := range p {
		if e.any == a {
			return e.msg
		}
	}
	return nil
}

// pack validates m and wraps it in an Any for a typed_config. Validation happens here because
// a Validate() on the enclosing message checks an Any's type, never its content.
func (bl *builder) pack(m proto.Message) (*anypb.Any, error) {
	name := m.ProtoReflect().Descriptor().FullName()
	if v, ok := m.(pgvValidator); ok {
		if err := v.ValidateAll(); err != nil {
			return nil, fmt.Errorf("when validating %s: %w", name, err)
		}
	}
	a := new(anypb.Any)
	if err := anypb.MarshalFrom(a, m, anyMarshal); err != nil {
		return nil, fmt.Errorf("when packing %s: %w", name, err)
	}
	bl.packed = append(bl.packed, packedAny{a, m})
	return a, nil
}
