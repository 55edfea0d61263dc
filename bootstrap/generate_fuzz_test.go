package bootstrap

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"
)

// FuzzGenerate feeds Generate arbitrary settings. It must never panic; it may refuse only
// settings checkSettings refuses (so Build's own validation never trips on settings we let
// through); and what it returns validates, parses back strictly to the same message, survives
// a strict protojson round trip, is what a second Marshal(Build(s)) renders (no map order or
// other chance leaks into the bytes), whose IPv4-only rendering differs only by the [::]
// addresses, and names a valid ConfigMap.
func FuzzGenerate(f *testing.F) {
	for _, s := range demoCases() {
		f.Add(s.ServiceName, s.Tracing.Enable, s.Tracing.Address, s.Tracing.Port, s.Tracing.Endpoint, s.Tracing.Sampling, s.Tracing.Propagation,
			s.ServerFirstPorts)
	}
	f.Add("x", true, "fd00::1", uint32(1), "/", 0.0, "b3", "1,65535")
	f.Add("Book_Buyer.v2", true, "a.b-c.d.", uint32(65535), "/a?b=c&d", 99.999, "b3+w3c", "")
	f.Add("", true, "", uint32(0), "", math.NaN(), "", "0")
	f.Add("yes", true, "on", uint32(80), "/\"quoted\"", math.Inf(1), "B3", "25,22")
	f.Fuzz(func(t *testing.T, service string, enable bool, address string, port uint32, endpoint string, sampling float64, propagation, serverFirst string) {
		s := Settings{ServiceName: service, Tracing: Tracing{Enable: enable, Address: address, Port: port, Endpoint: endpoint, Sampling: sampling,
			Propagation: propagation}, ServerFirstPorts: serverFirst}
		g, err := Generate(s)
		if err != nil {
			if checkSettings(s) == nil {
				t.Fatalf("Generate refused settings that pass checkSettings: %v", err)
			}
			return
		}
		b := mustParse(t, g.YAML)
		built, err := Build(s)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		if !proto.Equal(b, built) {
			t.Fatalf("Parse(Generate(s).YAML) differs from Build(s)")
		}
		if y, err := Marshal(built); err != nil || !bytes.Equal(y, g.YAML) {
			t.Fatalf("Marshal(Build(s)) = %v, differs from Generate's YAML", err)
		}
		if err := checkIPv4Rendering(g.YAML, g.IPv4YAML); err != nil {
			t.Fatal(err)
		}
		j, err := protojson.Marshal(b)
		if err != nil {
			t.Fatalf("protojson.Marshal: %v", err)
		}
		back := new(bootstrapv3.Bootstrap)
		if err := protojson.Unmarshal(j, back); err != nil || !proto.Equal(b, back) {
			t.Fatalf("strict protojson round trip: %v", err)
		}
		name := ConfigMapName(service, g.Hash)
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Fatalf("ConfigMapName(%q) = %q: %v", service, name, errs)
		}
	})
}

// FuzzYAMLString: any string, in any string field, comes back from Marshal then Parse as it
// went in, however YAML would otherwise read it (yes, 1.0, null, "a: b", #, unicode...).
func FuzzYAMLString(f *testing.F) {
	for _, s := range []string{"", "yes", "No", "on", "~", "null", "1.0", "0x1f", "1e3", "127.0.0.1", ".inf",
		"a: b", "- x", "#c", "@t", "*", "&a", "!t", "|", ">", "'q'", `"q"`, "a\nb", " lead", "trail ", "\t",
		"\u2028", "\ufeff", "é", "\x00", "\x7f", "\u0085", "2001-12-14", "1:20", "<<", "=", "?", "%", "`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := &bootstrapv3.Bootstrap{Node: nodeWithID(s)}
		y, err := Marshal(b)
		if err != nil {
			// protojson refuses invalid UTF-8 as well.
			if _, jerr := protojson.Marshal(b); jerr == nil {
				t.Fatalf("Marshal(%q): %v", s, err)
			}
			return
		}
		back, err := Parse(y)
		if err != nil {
			t.Fatalf("Parse(Marshal(%q)): %v\n%s", s, err, y)
		}
		if got := back.GetNode().GetId(); got != s {
			t.Fatalf("round trip of %q gave %q\n%s", s, got, y)
		}
	})
}

// FuzzYAMLNumbers: any uint32 in a UInt32Value and any int32 in an int32 field are written as
// protojson writes them (the same JSON number) and come back from Parse as they went in.
func FuzzYAMLNumbers(f *testing.F) {
	for _, c := range []struct {
		u    uint32
		a, b int32
	}{{0, 0, 0}, {1, -1, 1}, {math.MaxUint32, math.MinInt32, math.MaxInt32}, {1 << 31, 22, 23}} {
		f.Add(c.u, c.a, c.b)
	}
	f.Fuzz(func(t *testing.T, u uint32, a, b int32) {
		in := &bootstrapv3.Bootstrap{StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Clusters: []*clusterv3.Cluster{{Name: "c", CircuitBreakers: &clusterv3.CircuitBreakers{
				Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(u)}},
			}}},
			Listeners: []*listenerv3.Listener{{Name: "l", ListenerFilters: []*listenerv3.ListenerFilter{{
				Name: "f",
				FilterDisabled: &listenerv3.ListenerFilterChainMatchPredicate{Rule: &listenerv3.ListenerFilterChainMatchPredicate_DestinationPortRange{
					DestinationPortRange: &typev3.Int32Range{Start: a, End: b},
				}},
			}}}},
		}}
		y, err := Marshal(in)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse(y)
		if err != nil {
			t.Fatalf("Parse: %v\n%s", err, y)
		}
		if !proto.Equal(in, back) {
			t.Fatalf("round trip of %d, %d, %d differs:\n%s", u, a, b, y)
		}
		j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		yj, err := sigsyaml.YAMLToJSON(y)
		if err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		var fromJSON, fromYAML any
		if err := json.Unmarshal(j, &fromJSON); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(yj, &fromYAML); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
			t.Fatalf("YAML and protojson differ (-json +yaml):\n%s", diff)
		}
	})
}
