package check

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	detectorsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	typev3tag "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Facts are the tracing-related contents of a bootstrap, in the terms an operator sets them
// (collector, protocol, sampling, propagation, tags). They are read the same way from the
// bootstrap a pod mounts and from the one the core generates for the pod now, and Diff
// compares the two: the check never holds a model of its own of what a bootstrap should
// contain, so it cannot disagree with the injector (OTLP or Zipkin, and any option the
// generator learns later shows up as a difference of the two tracing blocks).
type Facts struct {
	// TracingCluster is set when the bootstrap has envoy-tracing-cluster; Address and Port are
	// its first endpoint.
	TracingCluster bool
	Address        string
	Port           uint32
	// HCMs counts the HTTP connection managers of the capture listeners
	// (bootstrap.IsCaptureListener: the health and Prometheus listeners are never traced);
	// Tracers lists the tracers of those that have one, in order.
	HCMs    int
	Tracers []Tracer
	// AccessLogs counts the capture listeners' HTTP connection managers and TCP proxies that
	// write an access log.
	AccessLogs int
	// PrometheusPort is the port of the listener bootstrap.PrometheusListenerName; 0 without one.
	PrometheusPort uint32
}

// Tracer is the tracing block of one HTTP connection manager, whatever its tracer.
type Tracer struct {
	// Listener is the listener the HTTP connection manager serves; Index counts the tracers
	// of that listener, from 0.
	Listener string
	Index    int
	// Kind is the tracer: bootstrap.ProtocolZipkin, bootstrap.ProtocolOpenTelemetry, or the
	// provider's name when it is neither.
	Kind string
	// Cluster is the cluster spans are sent through.
	Cluster string
	// Endpoint is the path Zipkin spans are posted to ("" with OpenTelemetry).
	Endpoint string
	// Host is the Host header (Zipkin) or :authority (OpenTelemetry) spans are sent with.
	Host string
	// ServiceName is the service spans are reported under: the OpenTelemetry resource's
	// service.name, or with Zipkin the bootstrap's node.cluster, which that tracer takes.
	ServiceName string
	// Propagation is the trace context the tracer reads and writes.
	Propagation string
	// Sampling is the random sampling, in percent ("unset" when the block has none).
	Sampling string
	// Tags are the custom span tags, one NAME=SOURCE per entry, in order.
	Tags []string
	// MaxPathTagLength is where the http.url tag is cut; 0 for Envoy's default.
	MaxPathTagLength uint32
	// SpanName is the operation format spans are named by ("" for Envoy's default).
	SpanName string
	// Resource lists the OpenTelemetry resource detectors, the static one with its
	// attributes (NAME=VALUE), in order.
	Resource []string
}

// ReadFacts parses a bootstrap (strictly, with the core's bootstrap.Parse) and collects its
// facts.
func ReadFacts(yaml []byte) (Facts, error) {
	b, err := bootstrap.Parse(yaml)
	if err != nil {
		return Facts{}, err
	}
	return factsOf(b)
}

func factsOf(b *bootstrapv3.Bootstrap) (Facts, error) {
	var f Facts
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() != bootstrap.TracingClusterName {
			continue
		}
		f.TracingCluster = true
		for _, e := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range e.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				if sa != nil && f.Address == "" {
					f.Address, f.Port = sa.GetAddress(), sa.GetPortValue()
				}
			}
		}
	}
	for _, l := range b.GetStaticResources().GetListeners() {
		if l.GetName() == bootstrap.PrometheusListenerName {
			f.PrometheusPort = l.GetAddress().GetSocketAddress().GetPortValue()
		}
		if !bootstrap.IsCaptureListener(l.GetName()) {
			continue
		}
		chains := slices.Clone(l.GetFilterChains())
		if l.GetDefaultFilterChain() != nil {
			chains = append(chains, l.GetDefaultFilterChain())
		}
		for _, fc := range chains {
			if err := f.addHCMs(l.GetName(), fc); err != nil {
				return Facts{}, err
			}
		}
	}
	for i := range f.Tracers {
		if f.Tracers[i].Kind == bootstrap.ProtocolZipkin {
			f.Tracers[i].ServiceName = b.GetNode().GetCluster()
		}
	}
	return f, nil
}

// addTCPProxyLog counts the access log of a TCP proxy filter.
func (f *Facts) addTCPProxyLog(listener string, filter *listenerv3.Filter) error {
	tp := &tcp_proxyv3.TcpProxy{}
	if !filter.GetTypedConfig().MessageIs(tp) {
		return nil
	}
	if err := filter.GetTypedConfig().UnmarshalTo(tp); err != nil {
		return fmt.Errorf("when decoding the TCP proxy of listener %s: %w", listener, err)
	}
	if len(tp.GetAccessLog()) > 0 {
		f.AccessLogs++
	}
	return nil
}

func (f *Facts) addHCMs(listener string, fc *listenerv3.FilterChain) error {
	for _, filter := range fc.GetFilters() {
		tc := filter.GetTypedConfig()
		if tc == nil {
			continue
		}
		hcm := &hcmv3.HttpConnectionManager{}
		if !tc.MessageIs(hcm) {
			if err := f.addTCPProxyLog(listener, filter); err != nil {
				return err
			}
			continue
		}
		if err := tc.UnmarshalTo(hcm); err != nil {
			return fmt.Errorf("when decoding the HTTP connection manager of listener %s: %w", listener, err)
		}
		f.HCMs++
		if len(hcm.GetAccessLog()) > 0 {
			f.AccessLogs++
		}
		if hcm.GetTracing() == nil {
			continue
		}
		t, err := tracerOf(listener, hcm.GetTracing())
		if err != nil {
			return err
		}
		for _, o := range f.Tracers {
			if o.Listener == listener {
				t.Index++
			}
		}
		f.Tracers = append(f.Tracers, t)
	}
	return nil
}

func tracerOf(listener string, tr *hcmv3.HttpConnectionManager_Tracing) (Tracer, error) {
	t := Tracer{Listener: listener, Sampling: "unset", MaxPathTagLength: tr.GetMaxPathTagLength().GetValue(), SpanName: tr.GetOperation()}
	if s := tr.GetRandomSampling(); s != nil {
		t.Sampling = strconv.FormatFloat(s.GetValue(), 'g', -1, 64) + "%"
	}
	for _, tag := range tr.GetCustomTags() {
		t.Tags = append(t.Tags, tag.GetTag()+"="+tagSource(tag))
	}
	p := tr.GetProvider()
	t.Kind = p.GetName()
	if t.Kind == "" {
		t.Kind = "none"
	}
	cfg := p.GetTypedConfig()
	if cfg == nil {
		return t, nil
	}
	z, o := &tracev3.ZipkinConfig{}, &tracev3.OpenTelemetryConfig{}
	switch {
	case cfg.MessageIs(z):
		if err := cfg.UnmarshalTo(z); err != nil {
			return Tracer{}, fmt.Errorf("when decoding the Zipkin tracer of listener %s: %w", listener, err)
		}
		t.Kind, t.Cluster, t.Endpoint, t.Host = bootstrap.ProtocolZipkin, z.GetCollectorCluster(), z.GetCollectorEndpoint(), z.GetCollectorHostname()
		t.Propagation = "B3"
		if z.GetTraceContextOption() == tracev3.ZipkinConfig_USE_B3_WITH_W3C_PROPAGATION {
			t.Propagation = "B3 and W3C traceparent"
		}
	case cfg.MessageIs(o):
		if err := cfg.UnmarshalTo(o); err != nil {
			return Tracer{}, fmt.Errorf("when decoding the OpenTelemetry tracer of listener %s: %w", listener, err)
		}
		t.Kind, t.ServiceName, t.Propagation = bootstrap.ProtocolOpenTelemetry, o.GetServiceName(), "W3C traceparent"
		if g := o.GetGrpcService().GetEnvoyGrpc(); g != nil {
			t.Cluster, t.Host = g.GetClusterName(), g.GetAuthority()
		}
		resource, err := resourceOf(o)
		if err != nil {
			return Tracer{}, fmt.Errorf("when decoding the resource detectors of listener %s: %w", listener, err)
		}
		t.Resource = resource
	}
	return t, nil
}

// resourceOf lists an OpenTelemetry tracer's resource detectors: the environment one by the
// variable it reads, the static one by its attributes, sorted.
func resourceOf(o *tracev3.OpenTelemetryConfig) ([]string, error) {
	var out []string
	for _, d := range o.GetResourceDetectors() {
		static := &detectorsv3.StaticConfigResourceDetectorConfig{}
		switch {
		case d.GetTypedConfig().MessageIs(&detectorsv3.EnvironmentResourceDetectorConfig{}):
			out = append(out, "env:"+bootstrap.EnvResourceAttributes)
		case d.GetTypedConfig().MessageIs(static):
			if err := d.GetTypedConfig().UnmarshalTo(static); err != nil {
				return nil, err
			}
			for _, k := range slices.Sorted(maps.Keys(static.GetAttributes())) {
				out = append(out, k+"="+static.GetAttributes()[k])
			}
		default:
			out = append(out, d.GetName())
		}
	}
	return out, nil
}

// tagSource says where a custom tag's value comes from, as the MeshConfig's tags say it.
func tagSource(tag *typev3tag.CustomTag) string {
	switch {
	case tag.GetLiteral() != nil:
		return "literal:" + tag.GetLiteral().GetValue()
	case tag.GetRequestHeader() != nil:
		return "header:" + tag.GetRequestHeader().GetName()
	case tag.GetEnvironment() != nil:
		return "env:" + tag.GetEnvironment().GetName()
	}
	return tag.String()
}

// kindText names a tracer kind as an operator sets it.
func kindText(kind string) string {
	switch kind {
	case bootstrap.ProtocolZipkin:
		return "Zipkin (protocol zipkin)"
	case bootstrap.ProtocolOpenTelemetry:
		return "OpenTelemetry (protocol opentelemetry, OTLP/gRPC)"
	}
	return kind
}

// Diff compares the facts of the bootstrap a pod runs (have) with those of the bootstrap the
// core generates for it now (want), and describes each difference that changes what is
// traced or where spans go; none means the pod traces as the injector would make it trace.
// A difference in anything else (how another injector version renders the same settings)
// is left to the bootstrap hash.
func Diff(have, want Facts) []string {
	var out []string
	if !want.TracingCluster && len(want.Tracers) == 0 {
		out = append(out, observabilityDiff(have, want)...)
		if have.TracingCluster {
			out = append(out, fmt.Sprintf("it has %s although tracing is disabled for this pod", bootstrap.TracingClusterName))
		}
		if len(have.Tracers) > 0 {
			out = append(out, fmt.Sprintf("%d HTTP connection managers have a tracer (%s) although tracing is disabled for this pod",
				len(have.Tracers), kindText(have.Tracers[0].Kind)))
		}
		return out
	}
	switch {
	case !have.TracingCluster && want.TracingCluster:
		out = append(out, fmt.Sprintf("it has no %s (tracing is enabled)", bootstrap.TracingClusterName))
	case have.TracingCluster && !want.TracingCluster:
		out = append(out, fmt.Sprintf("it has %s, which the injector no longer generates", bootstrap.TracingClusterName))
	case have.Address != want.Address || have.Port != want.Port:
		out = append(out, fmt.Sprintf("%s points at %s:%d, not %s:%d", bootstrap.TracingClusterName,
			have.Address, have.Port, want.Address, want.Port))
	}
	out = append(out, observabilityDiff(have, want)...)
	if have.HCMs == 0 {
		return append(out, "it has no HTTP connection manager to trace")
	}
	if missing := have.HCMs - len(have.Tracers); missing > 0 {
		out = append(out, fmt.Sprintf("%d of %d HTTP connection managers have no tracer", missing, have.HCMs))
	}
	// The same difference in several listeners is said once, naming them all.
	var diffs []string
	listeners := map[string][]string{}
	for _, h := range have.Tracers {
		var ds []string
		if w, ok := counterpart(h, want.Tracers); ok {
			ds = tracerDiff(h, w)
		} else {
			ds = []string{"is one the injector does not generate"}
		}
		for _, d := range ds {
			if _, seen := listeners[d]; !seen {
				diffs = append(diffs, d)
			}
			if !slices.Contains(listeners[d], h.Listener) {
				listeners[d] = append(listeners[d], h.Listener)
			}
		}
	}
	for _, d := range diffs {
		ls := listeners[d]
		if len(ls) == 1 {
			out = append(out, fmt.Sprintf("the tracer of listener %s %s", ls[0], d))
			continue
		}
		out = append(out, fmt.Sprintf("the tracer of listeners %s and %s %s", strings.Join(ls[:len(ls)-1], ", "), ls[len(ls)-1], d))
	}
	return out
}

// counterpart is the tracer of want that h is compared with: the one at the same place of the
// same listener, else the first of that listener, else the first of all.
func counterpart(h Tracer, want []Tracer) (Tracer, bool) {
	var first *Tracer
	for i, w := range want {
		if w.Listener != h.Listener {
			continue
		}
		if w.Index == h.Index {
			return w, true
		}
		if first == nil {
			first = &want[i]
		}
	}
	if first != nil {
		return *first, true
	}
	if len(want) > 0 {
		return want[0], true
	}
	return Tracer{}, false
}

// tracerDiff describes how tracer h differs from w, each difference as what follows "the
// tracer of listener X".
func tracerDiff(h, w Tracer) []string {
	if h.Kind != w.Kind {
		return []string{fmt.Sprintf("is %s, not %s", kindText(h.Kind), kindText(w.Kind))}
	}
	var out []string
	add := func(what, have, want string) {
		if have != want {
			out = append(out, fmt.Sprintf("%s %s, not %s", what, orNone(have), orNone(want)))
		}
	}
	if h.Cluster != w.Cluster {
		out = append(out, fmt.Sprintf("sends to cluster %q, not %s", h.Cluster, w.Cluster))
	}
	add("posts to", h.Endpoint, w.Endpoint)
	add("sends to host", h.Host, w.Host)
	add("reports service name", h.ServiceName, w.ServiceName)
	add("propagates", h.Propagation, w.Propagation)
	add("samples", h.Sampling, w.Sampling)
	add("tags spans with", strings.Join(h.Tags, ", "), strings.Join(w.Tags, ", "))
	add("cuts the http.url tag at", strconv.FormatUint(uint64(h.MaxPathTagLength), 10), strconv.FormatUint(uint64(w.MaxPathTagLength), 10))
	add("names spans", h.SpanName, w.SpanName)
	add("sets resource attributes", strings.Join(h.Resource, ", "), strings.Join(w.Resource, ", "))
	return out
}

// observabilityDiff describes the differences of the access log and the Prometheus listener,
// which do not depend on tracing.
func observabilityDiff(have, want Facts) []string {
	var out []string
	if (have.AccessLogs > 0) != (want.AccessLogs > 0) {
		out = append(out, fmt.Sprintf("its access log is %s, not %s", onOff(have.AccessLogs > 0), onOff(want.AccessLogs > 0)))
	}
	if have.PrometheusPort != want.PrometheusPort {
		out = append(out, fmt.Sprintf("it serves Prometheus stats on port %s, not %s",
			orNone(portText(have.PrometheusPort)), orNone(portText(want.PrometheusPort))))
	}
	return out
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func portText(p uint32) string {
	if p == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(p), 10)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Describe says where a bootstrap's spans go, in a line: the tracing cluster's collector and
// what the tracer speaks to it.
func (f Facts) Describe() string {
	if !f.TracingCluster || len(f.Tracers) == 0 {
		return "no tracer"
	}
	t := f.Tracers[0]
	switch t.Kind {
	case bootstrap.ProtocolOpenTelemetry:
		return fmt.Sprintf("%s -> %s:%d, OTLP/gRPC, service name %s", bootstrap.TracingClusterName, f.Address, f.Port, t.ServiceName)
	case bootstrap.ProtocolZipkin:
		return fmt.Sprintf("%s -> %s:%d, endpoint %s, service name %s", bootstrap.TracingClusterName, f.Address, f.Port, t.Endpoint, t.ServiceName)
	}
	return fmt.Sprintf("%s -> %s:%d, tracer %s", bootstrap.TracingClusterName, f.Address, f.Port, t.Kind)
}

// Observability says how a bootstrap names its spans and what else it lets an operator see:
// the span names of the inbound and outbound listeners, the access log, the Prometheus port.
func (f Facts) Observability() string {
	var parts []string
	names := map[string]string{}
	for _, t := range f.Tracers {
		if _, ok := names[t.Listener]; !ok && t.SpanName != "" {
			names[t.Listener] = t.SpanName
		}
	}
	for _, l := range []string{bootstrap.InboundListenerName, bootstrap.OutboundListenerName} {
		if n, ok := names[l]; ok {
			parts = append(parts, fmt.Sprintf("%s spans named %q", l, n))
		}
	}
	if len(f.Tracers) > 0 && len(f.Tracers[0].Resource) > 0 {
		parts = append(parts, "resource attributes from "+strings.Join(f.Tracers[0].Resource, ", "))
	}
	parts = append(parts, "access log "+onOff(f.AccessLogs > 0))
	if f.PrometheusPort != 0 {
		parts = append(parts, fmt.Sprintf("Prometheus stats on :%d%s", f.PrometheusPort, bootstrap.PrometheusPath))
	}
	return strings.Join(parts, ", ")
}
