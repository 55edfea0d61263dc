package check

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// What a collector port speaks.
const (
	PortZipkin   = "zipkin"    // Zipkin v2 over HTTP (Jaeger's 9411)
	PortOTLPGRPC = "otlp-grpc" // OTLP over gRPC (4317): what opentelemetry sends
	PortOTLPHTTP = "otlp-http" // OTLP over HTTP (4318): neither protocol's
)

// PortSpeaks says what a collector port speaks: from the Service port's name when it says
// (zipkin..., otlp-grpc, grpc-otlp, otlp-http, http-otlp, or otlp alone for gRPC), else from
// the well-known numbers 9411, 4317 and 4318; "" when neither tells.
func PortSpeaks(name string, port uint32) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "zipkin"):
		return PortZipkin
	case strings.Contains(n, "otlp") && strings.Contains(n, "http"):
		return PortOTLPHTTP
	case strings.Contains(n, "otlp"):
		return PortOTLPGRPC
	}
	switch port {
	case bootstrap.DefaultZipkinPort:
		return PortZipkin
	case bootstrap.DefaultOTLPPort:
		return PortOTLPGRPC
	case bootstrap.DefaultOTLPPort + 1:
		return PortOTLPHTTP
	}
	return ""
}

// wants is the port kind a protocol sends to.
func wants(protocol string) string {
	if protocol == bootstrap.ProtocolOpenTelemetry {
		return PortOTLPGRPC
	}
	return PortZipkin
}

// ProtocolMismatch reports whether the protocol is sent to a port that speaks something
// else: the problem, and the port to use instead (the Service's port that speaks the
// protocol when svc has one, else the protocol's default port). svc may be nil (a collector
// outside the cluster): then only the well-known numbers tell.
func ProtocolMismatch(protocol string, port uint32, svc *corev1.Service) (problem string, fix uint32, bad bool) {
	var name string
	if svc != nil {
		for _, p := range svc.Spec.Ports {
			if int64(p.Port) == int64(port) {
				name = p.Name
			}
		}
	}
	speaks := PortSpeaks(name, port)
	want := wants(protocol)
	if speaks == "" || speaks == want {
		return "", 0, false
	}
	fix = bootstrap.DefaultPort(protocol)
	if svc != nil {
		for _, p := range svc.Spec.Ports {
			if PortSpeaks(p.Name, uint32(p.Port)) == want { //nolint:gosec // G115: a Service port is 1..65535
				fix = uint32(p.Port) //nolint:gosec // G115: as above
				break
			}
		}
	}
	what := fmt.Sprintf("port %d", port)
	if name != "" {
		what = fmt.Sprintf("port %d (%s)", port, name)
	}
	return fmt.Sprintf("the protocol is %s (%s), but %s speaks %s", protocol, protocolWire(protocol), what, portWire(speaks)), fix, true
}

func protocolWire(protocol string) string {
	if protocol == bootstrap.ProtocolOpenTelemetry {
		return "OTLP over gRPC"
	}
	return "Zipkin v2 JSON over HTTP"
}

func portWire(kind string) string {
	switch kind {
	case PortZipkin:
		return "Zipkin"
	case PortOTLPGRPC:
		return "OTLP over gRPC"
	}
	return "OTLP over HTTP, which neither protocol sends"
}
