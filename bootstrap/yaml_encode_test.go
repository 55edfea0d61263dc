package bootstrap

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	sigsyaml "sigs.k8s.io/yaml"
)

func nodeWithID(id string) *corev3.Node { return &corev3.Node{Id: id} }

// oddBootstrap exercises what the demo bootstraps do not, within what the encoder supports:
// strings YAML would misread, a map with several keys, an empty Any content, false and zero
// values that are set, the extremes of UInt32Value and negative int32s.
func oddBootstrap(t *testing.T) *bootstrapv3.Bootstrap {
	t.Helper()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: "on", Cluster: "a\nb\t\"c\" é \u2028", UserAgentName: "1e3"},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{{
			Name:           "*",
			ConnectTimeout: durationpb.New(0),
			TypedExtensionProtocolOptions: map[string]*anypb.Any{
				"z":    pack(&corev3.Node{Id: "0.25s"}),
				"a":    pack(&corev3.Node{}),
				"":     pack(&corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "::1", PortSpecifier: &corev3.SocketAddress_PortValue{}}}}),
				"yes":  pack(&corev3.Http1ProtocolOptions{AllowAbsoluteUrl: wrapperspb.Bool(false)}),
				"a: b": pack(&corev3.Http2ProtocolOptions{}),
			},
		}, {
			Name:                          "limits",
			PerConnectionBufferLimitBytes: wrapperspb.UInt32(0),
			CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
				MaxConnections: wrapperspb.UInt32(math.MaxUint32), MaxRequests: wrapperspb.UInt32(1),
			}}},
		}, {}}, Listeners: []*listenerv3.Listener{{
			Name: "ranges",
			ListenerFilters: []*listenerv3.ListenerFilter{{
				Name: "x",
				FilterDisabled: &listenerv3.ListenerFilterChainMatchPredicate{Rule: &listenerv3.ListenerFilterChainMatchPredicate_DestinationPortRange{
					DestinationPortRange: &typev3.Int32Range{Start: math.MinInt32, End: -1},
				}},
			}, {
				Name: "y",
				FilterDisabled: &listenerv3.ListenerFilterChainMatchPredicate{Rule: &listenerv3.ListenerFilterChainMatchPredicate_DestinationPortRange{
					DestinationPortRange: &typev3.Int32Range{Start: 0, End: math.MaxInt32},
				}},
			}},
		}}},
		StatsFlushInterval:     durationpb.New(90 * time.Second),
		EnableDispatcherStats:  true,
		LayeredRuntime:         &bootstrapv3.LayeredRuntime{},
		DefaultSocketInterface: "y",
		PerfTracingFilePath:    "/tmp/x",
	}
}

// TestEncodeMatchesProtojson: the YAML encoder and protojson (proto names) describe the same
// document, and Parse brings the YAML back to the same message.
func TestEncodeMatchesProtojson(t *testing.T) {
	messages := map[string]*bootstrapv3.Bootstrap{"odd": oddBootstrap(t), "empty": {}}
	for name, s := range demoCases() {
		b, err := Build(s)
		if err != nil {
			t.Fatal(err)
		}
		messages[name] = b
	}
	for name, b := range messages {
		t.Run(name, func(t *testing.T) {
			y, err := Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			var fromJSON any
			if err := json.Unmarshal(j, &fromJSON); err != nil {
				t.Fatal(err)
			}
			yj, err := sigsyaml.YAMLToJSON(y)
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			var fromYAML any
			if err := json.Unmarshal(yj, &fromYAML); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
				t.Errorf("YAML and protojson differ (-json +yaml):\n%s\n%s", diff, y)
			}
			back, err := Parse(y)
			if err != nil {
				t.Fatalf("%v\n%s", err, y)
			}
			if diff := cmp.Diff(b, back, protocmp.Transform()); diff != "" {
				t.Errorf("Parse(Marshal(b)) differs:\n%s", diff)
			}
		})
	}
}

// TestPlainSafe lists what is written without quotes.
func TestPlainSafe(t *testing.T) {
	for s, want := range map[string]bool{
		"envoy-tracing-cluster": true, "/api/v2/spans": true, "type.googleapis.com/x.Y": true,
		"LOGICAL_DNS": true, "1s": true, "0.25s": true, "http/1.1": true,
		"": false, "yes": false, "No": false, "ON": false, "y": false, "null": false, "true": false,
		"127.0.0.1": false, "1": false, "1e3": false, ".5s": false, "1.s": false, "*": false, "@type": false,
		"a b": false, "a:b": false, "-x": false, "é": false,
	} {
		if got := plainSafe(s); got != want {
			t.Errorf("plainSafe(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestEncodeRefusesUnsupported: what the encoder does not support (nothing Build makes) is an
// error, never a guess, even where protojson would write it.
func TestEncodeRefusesUnsupported(t *testing.T) {
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	meta, err := structpb.NewStruct(map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	withOptions := func(a *anypb.Any) *bootstrapv3.Bootstrap {
		return &bootstrapv3.Bootstrap{StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{{
			TypedExtensionProtocolOptions: map[string]*anypb.Any{"x": a},
		}}}}
	}
	for name, c := range map[string]struct {
		b         *bootstrapv3.Bootstrap
		protojson bool // whether protojson writes it
	}{
		"Struct":                   {&bootstrapv3.Bootstrap{Node: &corev3.Node{Metadata: meta}}, true},
		"UInt64Value":              {&bootstrapv3.Bootstrap{StatsServerVersionOverride: wrapperspb.UInt64(42)}, true},
		"Duration with nanos":      {&bootstrapv3.Bootstrap{StatsFlushInterval: durationpb.New(1500 * time.Millisecond)}, true},
		"negative Duration":        {&bootstrapv3.Bootstrap{StatsFlushInterval: durationpb.New(-time.Second)}, true},
		"Timestamp in an Any":      {withOptions(pack(timestamppb.New(time.Unix(0, 0)))), true},
		"BytesValue in an Any":     {withOptions(pack(wrapperspb.Bytes([]byte{1}))), true},
		"Int32Value in an Any":     {withOptions(pack(wrapperspb.Int32(-1))), true},
		"UInt32Value in an Any":    {withOptions(pack(wrapperspb.UInt32(1))), true},
		"empty Any":                {withOptions(&anypb.Any{}), true},
		"unknown Any type":         {withOptions(&anypb.Any{TypeUrl: "type.googleapis.com/example.Nope"}), false},
		"Any of undecodable bytes": {withOptions(&anypb.Any{TypeUrl: "type.googleapis.com/envoy.config.core.v3.Node", Value: []byte{0xff}}), false},
	} {
		if _, err := Marshal(c.b); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
		if _, err := (protojson.MarshalOptions{}).Marshal(c.b); (err == nil) != c.protojson {
			t.Errorf("%s: protojson error %v (the test case is wrong)", name, err)
		}
	}
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil) succeeded")
	}
}
