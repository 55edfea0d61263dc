package bootstrap

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	sigsyaml "sigs.k8s.io/yaml"
)

// libraryYAML is the route the hand-written encoder stands in for: protojson with proto
// field names, then sigs.k8s.io/yaml, which re-encodes the JSON with every mapping's keys
// sorted (so protojson's deliberately unstable whitespace does not reach the output).
func libraryYAML(m proto.Message) ([]byte, error) {
	j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	return sigsyaml.JSONToYAML(j)
}

// BenchmarkMarshalLibraries compares the encoder (Marshal) with libraryYAML on the guide's
// bookbuyer bootstrap; out-bytes is the size of one rendering. Before measuring, it checks
// that the library route is stable across calls and means the same bootstrap (it parses back
// to an equal message); its bytes differ from the encoder's (keys sorted alphabetically, not
// in declaration order). The numbers are quoted in yaml_encode.go.
func BenchmarkMarshalLibraries(b *testing.B) {
	bs, err := Build(benchSettings())
	if err != nil {
		b.Fatal(err)
	}
	lib, err := libraryYAML(bs)
	if err != nil {
		b.Fatal(err)
	}
	for range 20 {
		again, err := libraryYAML(bs)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(again, lib) {
			b.Fatal("the library route rendered the same bootstrap differently")
		}
	}
	back, err := Parse(lib)
	if err != nil {
		b.Fatal(err)
	}
	if !proto.Equal(back, bs) {
		b.Fatal("the library route's YAML parses back to a different bootstrap")
	}

	routes := []struct {
		name   string
		render func() ([]byte, error)
	}{
		{"encoder", func() ([]byte, error) { return Marshal(bs) }},
		{"protojson+sigs.k8s.io-yaml", func() ([]byte, error) { return libraryYAML(bs) }},
	}
	for _, r := range routes {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := r.render()
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "out-bytes")
		})
	}
}
