package bootstrap

import (
	"encoding/json"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
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

// oddBootstrap exercises what the demo bootstraps do not: well-known types in and out of
// Anys, Struct and list values, maps with several keys, 64-bit integers, empty messages and
// strings YAML would misread.
func oddBootstrap(t *testing.T) *bootstrapv3.Bootstrap {
	t.Helper()
	meta, err := structpb.NewStruct(map[string]any{
		"yes": "no", "n": nil, "f": 1.5, "b": true, "list": []any{"1.0", []any{}, map[string]any{}, []any{"x", 2.0}},
		"nested": map[string]any{"a: b": "#c", "": "empty key"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: "on", Cluster: "a\nb\t\"c\" é \u2028", Metadata: meta, UserAgentName: "1e3"},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{{
			Name:           "*",
			ConnectTimeout: durationpb.New(-1500 * time.Millisecond),
			TypedExtensionProtocolOptions: map[string]*anypb.Any{
				"z":    pack(durationpb.New(time.Nanosecond)),
				"a":    pack(wrapperspb.UInt64(1 << 60)),
				"m":    pack(structpb.NewListValue(&structpb.ListValue{})),
				"ts":   pack(timestamppb.New(time.Date(2024, 2, 29, 12, 0, 0, 120000000, time.UTC))),
				"node": pack(&corev3.Node{}),
				"b":    pack(wrapperspb.Bytes([]byte{0, 1, 2, 0xff})),
				"e":    {},
			},
		}, {}}},
		StatsFlushInterval:           durationpb.New(90 * time.Second),
		StatsServerVersionOverride:   wrapperspb.UInt64(42),
		EnableDispatcherStats:        true,
		HeaderPrefix:                 "",
		LayeredRuntime:               &bootstrapv3.LayeredRuntime{},
		DefaultSocketInterface:       "y",
		PerfTracingFilePath:          "/tmp/x",
		CertificateProviderInstances: map[string]*corev3.TypedExtensionConfig{"k": {Name: "n", TypedConfig: pack(&structpb.Struct{})}},
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

// TestEncodeErrors: what protojson refuses, the encoder refuses too.
func TestEncodeErrors(t *testing.T) {
	for name, b := range map[string]*bootstrapv3.Bootstrap{
		"duration out of range": {StatsFlushInterval: &durationpb.Duration{Seconds: 1, Nanos: -1}},
		"unknown Any type":      {Node: &corev3.Node{Metadata: &structpb.Struct{}}, HdsConfig: nil, FatalActions: nil, StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{{TypedExtensionProtocolOptions: map[string]*anypb.Any{"x": {TypeUrl: "type.googleapis.com/example.Nope"}}}}}},
		"value without kind":    {Node: &corev3.Node{Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{"x": {}}}}},
	} {
		if _, err := Marshal(b); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
		if _, err := (protojson.MarshalOptions{}).Marshal(b); err == nil {
			t.Errorf("%s: protojson succeeded (the test case is wrong)", name)
		}
	}
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil) succeeded")
	}
}
