package bootstrap

import (
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// wellKnown writes the google.protobuf message md encoded in b in its JSON form: Any,
// Duration, BoolValue and UInt32Value, those Build uses. The others are errors.
func (e *yamlEncoder) wellKnown(md protoreflect.MessageDescriptor, b []byte, indent int, dash bool) error {
	name := md.FullName()
	switch name {
	case "google.protobuf.Any", "google.protobuf.Duration", "google.protobuf.BoolValue", "google.protobuf.UInt32Value":
	default:
		return fmt.Errorf("%s is not supported", name)
	}
	lo, err := e.parse(md, b)
	if err != nil {
		return err
	}
	// The fields by number (the three types number theirs 1 and 2). An absent field is the
	// zero wireField, which reads as the varint 0.
	var f [3]wireField
	for _, x := range e.fields[lo:] {
		f[x.fd.Number()] = x
	}
	e.fields = e.fields[:lo]
	switch name {
	case "google.protobuf.Any":
		return e.any(f[1], f[2], indent, dash)
	case "google.protobuf.Duration":
		// Build's durations are whole seconds (0s, 1s, 5s), written like protojson's 5s.
		secs := int64(f[1].num) //nolint:gosec // G115: an int64 is encoded as its 64 bits
		if f[1].typ != protowire.VarintType || secs < 0 || secs > maxDuration || f[2].fd != nil {
			return errors.New("google.protobuf.Duration: only whole non-negative seconds are supported")
		}
		e.scalarPrefix(dash)
		e.out = append(strconv.AppendInt(e.out, secs, 10), 's', '\n')
	case "google.protobuf.BoolValue":
		if f[1].typ != protowire.VarintType {
			return errors.New("google.protobuf.BoolValue: value is not a varint")
		}
		e.scalarPrefix(dash)
		e.out = append(strconv.AppendBool(e.out, f[1].num != 0), '\n')
	default: // UInt32Value, a number in JSON (circuit breaker thresholds, destination ports)
		if f[1].typ != protowire.VarintType {
			return errors.New("google.protobuf.UInt32Value: value is not a varint")
		}
		e.scalarPrefix(dash)
		e.out = append(strconv.AppendUint(e.out, uint64(uint32(f[1].num)), 10), '\n') //nolint:gosec // G115: a uint32 is encoded as its 32 bits
	}
	return nil
}

// maxDuration is protojson's bound on a Duration, about 10,000 years.
const maxDuration = 315576000000

// any writes an Any (its type_url and value fields) as protojson does: "@type", then the
// packed message's fields.
func (e *yamlEncoder) any(typeURL, value wireField, indent int, dash bool) error {
	if typeURL.typ != protowire.BytesType || len(typeURL.val) == 0 {
		return errors.New("google.protobuf.Any: type_url is not set")
	}
	if value.fd != nil && value.typ != protowire.BytesType {
		return errors.New("google.protobuf.Any: value is not length-delimited")
	}
	if err := checkUTF8(typeURL.fd, typeURL.val); err != nil {
		return err
	}
	url := string(typeURL.val)
	// The global registry holds every typed_config type the bootstrap uses: this package
	// imports them.
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		return fmt.Errorf("when resolving %q: %w", url, err)
	}
	md := mt.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		return fmt.Errorf("google.protobuf.Any: %s inside an Any is not supported", md.FullName())
	}
	lo, err := e.parse(md, value.val)
	defer func() { e.fields = e.fields[:lo] }()
	if err != nil {
		return err
	}
	if !dash {
		e.out = append(e.out, '\n')
	}
	e.key("@type", indent+2, dash)
	e.out = append(e.out, ' ')
	e.out = append(appendString(e.out, url), '\n')
	return e.entries(lo, indent+2, false)
}
