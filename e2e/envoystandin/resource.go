package envoystandin

import (
	"fmt"
	"net/url"
	"strings"

	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	detectorsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// defaultServiceName is Envoy's service.name when the tracer has no service_name.
const defaultServiceName = "unknown_service:envoy"

// readOTLP reads the OpenTelemetry tracer's export settings and resolves its resource in
// imitation of Envoy's ResourceProviderImpl (never run against it), once, when the bootstrap
// is loaded: service.name and the SDK's attributes first, then each detector's attributes
// merged over them in order. The SDK attributes name the stand-in, not Envoy
// (telemetry.sdk.name=envoy-standin), so a backend never takes these spans for Envoy's.
func readOTLP(o *tracev3.OpenTelemetryConfig) (*OTLPExport, error) {
	g := o.GetGrpcService().GetEnvoyGrpc()
	if g == nil {
		return nil, fmt.Errorf("the stand-in exports through envoy_grpc only, not %v", o.GetGrpcService())
	}
	if o.GetSampler() != nil || o.GetHttpService() != nil {
		return nil, fmt.Errorf("the stand-in applies no sampler and exports over gRPC only")
	}
	out := &OTLPExport{Authority: g.GetAuthority(), Resource: map[string]string{
		bootstrap.AttributeServiceName: o.GetServiceName(),
		"telemetry.sdk.name":           TracerComponent,
		"telemetry.sdk.language":       "go",
	}}
	if out.Authority == "" {
		out.Authority = g.GetClusterName() // Envoy's gRPC client's default :authority
	}
	if out.Resource[bootstrap.AttributeServiceName] == "" {
		out.Resource[bootstrap.AttributeServiceName] = defaultServiceName
	}
	for _, d := range o.GetResourceDetectors() {
		var attrs map[string]string
		switch tc := d.GetTypedConfig(); {
		case tc.MessageIs(&detectorsv3.EnvironmentResourceDetectorConfig{}):
			v, _ := osLookupEnv(bootstrap.EnvResourceAttributes)
			attrs = ParseResourceAttributes(v)
		case tc.MessageIs(&detectorsv3.StaticConfigResourceDetectorConfig{}):
			var sc detectorsv3.StaticConfigResourceDetectorConfig
			if err := tc.UnmarshalTo(&sc); err != nil {
				return nil, fmt.Errorf("resource detector %q: %w", d.GetName(), err)
			}
			attrs = sc.GetAttributes()
		default:
			return nil, fmt.Errorf("resource detector %q: the stand-in knows the environment and static_config detectors only", d.GetName())
		}
		for k, v := range attrs {
			out.Resource[k] = v
		}
	}
	return out, nil
}

// ParseResourceAttributes reads OTEL_RESOURCE_ATTRIBUTES: key=value pairs separated by commas,
// each key and value percent-decoded (the OpenTelemetry specification's form; '+' stays a
// '+'), surrounding spaces trimmed. A malformed pair (no '=', an empty key, a bad escape) is
// skipped, as Envoy's environment detector skips it, rather than failing the whole variable.
func ParseResourceAttributes(v string) map[string]string {
	out := map[string]string{}
	for pair := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		k, err1 := url.PathUnescape(strings.TrimSpace(k))
		val, err2 := url.PathUnescape(strings.TrimSpace(val))
		if err1 != nil || err2 != nil || k == "" {
			continue
		}
		out[k] = val
	}
	return out
}
