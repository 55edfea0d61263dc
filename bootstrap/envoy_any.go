package bootstrap

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// pgvValidator is implemented by every go-control-plane message (protoc-gen-validate).
type pgvValidator interface{ ValidateAll() error }

// anyMarshal is the binary encoding used inside every Any, so a typed_config's bytes depend
// only on its content.
var anyMarshal = proto.MarshalOptions{Deterministic: true}

// builder builds one bootstrap. The parts it remembers are shared by several places of the
// bootstrap; nothing changes them once built.
type builder struct {
	// router is the router filter all HCMs share.
	router *hcmv3.HttpFilter
	// captureFilters are the listener filters of both capture listeners.
	captureFilters []*listenerv3.ListenerFilter
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
	return a, nil
}
