package bootstrap

import (
	"errors"
	"fmt"
)

// checkSettings reports every field of s that cannot be turned into a bootstrap, each error
// naming the field, the value and the accepted form. Resolve validates user input first;
// this is the generator's own guard, so that Generate never panics or emits a bootstrap
// Envoy would reject. It applies the validators Resolve applies (resolve_values.go), so
// Generate accepts exactly the values Resolve can produce. The collector fields are only
// checked when tracing is enabled, since they are not used otherwise.
func checkSettings(s Settings) error {
	var errs []error
	if err := checkServiceName(s.ServiceName); err != nil {
		errs = append(errs, err)
	}
	if _, ok := parseCanonicalPorts(s.ServerFirstPorts); !ok {
		errs = append(errs, fmt.Errorf("serverFirstPorts: %q is not a list of ports, want ports from 1 to 65535, ascending without repeats, separated by commas (such as 23,3307), or empty", s.ServerFirstPorts))
	}
	if w := s.Workload; w != (Workload{}) && (WorkloadTag(w) == "" || !isDNSSubdomain(w.Name)) {
		errs = append(errs, fmt.Errorf("workload: %s %q has no span tag, want a Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob named by a DNS subdomain, or none", w.Kind, w.Name))
	}
	if s.Tracing.Enable {
		errs = append(errs, checkTracing(s.Tracing)...)
	}
	return errors.Join(errs...)
}

// checkServiceName applies the service-name rule (a DNS-1123 label), which every name
// Resolve gives meets: an annotated name is validated, a derived one is sanitized into one.
func checkServiceName(name string) error {
	if !validServiceName(name) {
		return settingsError("serviceName", name, acceptedServiceName)
	}
	return nil
}

// checkTracing checks the collector fields of an enabled tracing configuration with the
// validators Resolve applies to annotations and MeshConfig fields.
func checkTracing(t Tracing) []error {
	var errs []error
	if t.Protocol != "" && !validProtocol(t.Protocol) {
		errs = append(errs, settingsError("tracing.protocol", t.Protocol, acceptedProtocol))
	}
	if !validAddress(t.Address) {
		errs = append(errs, settingsError("tracing.address", t.Address, acceptedAddress))
	}
	if !validPort(int64(t.Port)) {
		errs = append(errs, settingsError("tracing.port", formatInt(int64(t.Port)), acceptedPort))
	}
	switch {
	case t.Protocol == ProtocolOpenTelemetry && t.Endpoint != "":
		// Resolve clears it: one bootstrap, one Settings.
		errs = append(errs, settingsError("tracing.endpoint", t.Endpoint, `must be empty with protocol "opentelemetry"`))
	case t.Protocol != ProtocolOpenTelemetry && !validEndpoint(t.Endpoint):
		errs = append(errs, settingsError("tracing.endpoint", t.Endpoint, acceptedEndpoint))
	}
	if !validSampling(t.Sampling) {
		errs = append(errs, settingsError("tracing.sampling", formatFloat(t.Sampling), acceptedSampling))
	}
	if !validPropagation(t.Propagation) {
		errs = append(errs, fmt.Errorf("tracing.propagation: %q is not a propagation, want %q or %q", t.Propagation, PropagationB3, PropagationB3W3C))
	}
	if t.InboundSpanName != "" && !validSpanName(t.InboundSpanName) {
		errs = append(errs, settingsError("tracing.inboundSpanName", t.InboundSpanName, acceptedSpanName))
	}
	if t.OutboundSpanName != "" && !validSpanName(t.OutboundSpanName) {
		errs = append(errs, settingsError("tracing.outboundSpanName", t.OutboundSpanName, acceptedSpanName))
	}
	return errs
}

// settingsError is one field of Settings that cannot make a bootstrap, in the words of the
// FieldErrors Resolve reports for the same rule.
func settingsError(field, value, accepted string) error {
	return fmt.Errorf("%s: invalid value %s: %s", field, quoteValue(value), accepted)
}
