package bootstrap

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	caresv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/network/dns_resolver/cares/v3"
	detectorsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
	"google.golang.org/protobuf/proto"
)

// The rules of what operators see: span names, resource attributes, the collector's DNS,
// the Prometheus listener and the access log. Like the rest of the table they are config
// checked: they hold the bootstrap to what Envoy documents, which no test here can run.
func init() {
	rules = append(rules, rule{
		name: "spans are named by the settings' formats, within the commands every Envoy knows",
		// tracing.operation takes an access-log format string and overrides route decorators;
		// Envoy refuses a format with a command it does not know.
		doc:   envoyDocs + "api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-field-extensions-filters-network-http-connection-manager-v3-httpconnectionmanager-tracing-operation",
		check: checkSpanNames,
	}, rule{
		name: "Prometheus scrapes 15090 and reaches nothing of the admin interface but its stats",
		// The admin interface serves /stats/prometheus; the listener routes that path alone.
		doc:   envoyDocs + "operations/admin#get--stats-prometheus",
		check: checkPrometheus,
	}, rule{
		name: "the access log is on exactly when asked, on stdout, with the response flags and the trace id",
		// %RESPONSE_FLAGS% and %TRACE_ID% are access-log format commands; the stdout logger
		// writes to Envoy's standard output.
		doc:   envoyDocs + "configuration/observability/access_log/usage#format-strings",
		check: checkAccessLog,
	}, rule{
		name: "the collector's name is resolved sparingly: TTLs respected, no search list for a Service's full name",
		// respect_dns_ttl, dns_refresh_rate, dns_jitter and dns_failure_refresh_rate apply to
		// LOGICAL_DNS; c-ares' no_default_search_domain skips resolv.conf's search list.
		doc:   envoyDocs + "api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-respect-dns-ttl",
		check: checkCollectorDNS,
	})
}

func checkSpanNames(b *bootstrapv3.Bootstrap, s Settings) error {
	if !s.Tracing.Enable {
		return nil
	}
	inbound, outbound := s.Tracing.SpanNames()
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		want := outbound
		if c.listener == InboundListenerName {
			want = inbound
		}
		got := h.GetTracing().GetOperation()
		if got != want {
			return fmt.Errorf("listener %s: spans are named %q, want %q", c.listener, got, want)
		}
		if !validSpanName(got) {
			return fmt.Errorf("listener %s: span name %q uses a command outside %v", c.listener, got, SpanNameCommands)
		}
		if h.GetTracing().GetSpawnUpstreamSpan().GetValue() {
			return errors.New("upstream spans are spawned: a sidecar and its application are one hop, and upstream_operation is not set")
		}
	}
	return nil
}

func checkPrometheus(b *bootstrapv3.Bootstrap, _ Settings) error {
	return checkAdminPathListener(b, PrometheusListenerName, PrometheusPort, PrometheusPath, "")
}

// stdoutFormat is the text format of a stdout access log, or why it is not one.
func stdoutFormat(l *accesslogv3.AccessLog) (string, error) {
	var s streamv3.StdoutAccessLog
	if l.GetName() != stdoutAccessLogName || l.GetTypedConfig().UnmarshalTo(&s) != nil {
		return "", fmt.Errorf("access log %q is not the stdout logger", l.GetName())
	}
	return s.GetLogFormat().GetTextFormatSource().GetInlineString(), nil
}

func checkAccessLog(b *bootstrapv3.Bootstrap, s Settings) error {
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		var tcp tcp_proxyv3.TcpProxy
		if f := findListener(b, c.listener).GetDefaultFilterChain().GetFilters(); len(f) != 1 || f[0].GetTypedConfig().UnmarshalTo(&tcp) != nil {
			return fmt.Errorf("listener %s: the default chain is not one tcp_proxy", c.listener)
		}
		logs := map[string][]*accesslogv3.AccessLog{"HTTP": h.GetAccessLog(), "TCP": tcp.GetAccessLog()}
		for kind, l := range logs {
			if !s.Tracing.AccessLog {
				if len(l) != 0 {
					return fmt.Errorf("listener %s: the %s chain logs, but the access log is off", c.listener, kind)
				}
				continue
			}
			if len(l) != 1 {
				return fmt.Errorf("listener %s: the %s chain has %d access logs, want 1", c.listener, kind, len(l))
			}
			format, err := stdoutFormat(l[0])
			if err != nil {
				return fmt.Errorf("listener %s: %w", c.listener, err)
			}
			want := accessLogFormat(AccessLogTCPFormat, c.listener)
			if kind == "HTTP" {
				want = accessLogFormat(AccessLogHTTPFormat, c.listener)
			}
			if format != want || !strings.Contains(format, "%RESPONSE_FLAGS%") || kind == "HTTP" && !strings.Contains(format, "%TRACE_ID%") {
				return fmt.Errorf("listener %s: the %s chain logs %q, want %q", c.listener, kind, format, want)
			}
			var wantFilter *accesslogv3.AccessLogFilter
			if kind == "HTTP" && c.listener == InboundListenerName {
				wantFilter = notProbes()
			}
			if !proto.Equal(l[0].GetFilter(), wantFilter) {
				return fmt.Errorf("listener %s: the %s chain's log filter is %v, want %v (the kubelet's probes, and only they, left out inbound)", c.listener, kind, l[0].GetFilter(), wantFilter)
			}
		}
	}
	for _, l := range b.GetStaticResources().GetListeners() {
		if l.GetName() == OutboundListenerName || l.GetName() == InboundListenerName {
			continue
		}
		h, err := theHCM(b, l.GetName())
		if err == nil && len(h.GetAccessLog()) > 0 {
			return fmt.Errorf("listener %s logs: probes and scrapes would bury the traffic", l.GetName())
		}
	}
	return nil
}

func checkCollectorDNS(b *bootstrapv3.Bootstrap, s Settings) error {
	if !s.Tracing.Enable {
		return nil
	}
	c := findCluster(b, TracingClusterName)
	if c == nil {
		return fmt.Errorf("no cluster %s", TracingClusterName)
	}
	if err := checkSparingDNS(c); err != nil {
		return err
	}
	r := c.GetTypedDnsResolverConfig()
	if !isServiceFQDN(s.Tracing.Address) {
		if r != nil {
			return fmt.Errorf("%s: %q is not a Service's full name, yet the search list is off", TracingClusterName, s.Tracing.Address)
		}
		return nil
	}
	var cares caresv3.CaresDnsResolverConfig
	if r.GetName() != caresResolverName || r.GetTypedConfig().UnmarshalTo(&cares) != nil || !cares.GetDnsResolverOptions().GetNoDefaultSearchDomain() {
		return fmt.Errorf("%s: %q is a Service's full name, resolved through the search list (%v)", TracingClusterName, s.Tracing.Address, r)
	}
	if len(cares.GetResolvers()) != 0 {
		return fmt.Errorf("%s: resolvers %v replace the pod's DNS servers", TracingClusterName, cares.GetResolvers())
	}
	return nil
}

// checkResourceAttributes is checkKubernetesTags with OpenTelemetry: the tracer's resource
// detectors are the environment one (the pod, namespace and node from
// EnvResourceAttributes) and, for a workload, the static one with its name; no span carries
// them as tags.
func checkResourceAttributes(b *bootstrapv3.Bootstrap, s Settings) error {
	want := map[string]string{}
	if tag := WorkloadTag(s.Workload); tag != "" {
		want[tag] = s.Workload.Name
	}
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		for _, ct := range h.GetTracing().GetCustomTags() {
			if builtinTag(ct.GetTag()) {
				return fmt.Errorf("listener %s: %s is a span tag; with OpenTelemetry it is a resource attribute", c.listener, ct.GetTag())
			}
		}
		var o tracev3.OpenTelemetryConfig
		if err := h.GetTracing().GetProvider().GetTypedConfig().UnmarshalTo(&o); err != nil {
			return fmt.Errorf("listener %s: %w", c.listener, err)
		}
		var env bool
		got := map[string]string{}
		for _, d := range o.GetResourceDetectors() {
			switch d.GetName() {
			case EnvironmentDetectorName:
				env = d.GetTypedConfig().MessageIs(&detectorsv3.EnvironmentResourceDetectorConfig{})
			case StaticConfigDetectorName:
				var sc detectorsv3.StaticConfigResourceDetectorConfig
				if err := d.GetTypedConfig().UnmarshalTo(&sc); err != nil {
					return fmt.Errorf("listener %s: %w", c.listener, err)
				}
				maps.Copy(got, sc.GetAttributes())
			default:
				return fmt.Errorf("listener %s: resource detector %q", c.listener, d.GetName())
			}
		}
		if !env {
			return fmt.Errorf("listener %s: no environment resource detector: the pod, namespace and node (%s) are lost", c.listener, EnvResourceAttributes)
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("listener %s: static resource attributes %v, want %v", c.listener, got, want)
		}
	}
	return nil
}

// TestObservabilityRulesCatchMutations breaks the observability golden (access log on, span
// names of the MeshConfig, a short collector name) in the ways these rules are about.
func TestObservabilityRulesCatchMutations(t *testing.T) {
	golden := mustParse(t, mustRead(t, filepath.Join("testdata", "bookbuyer-observability.yaml")))
	s := demoCases()["bookbuyer-observability"]
	if !s.Tracing.AccessLog || s.Tracing.InboundSpanName == "" || isServiceFQDN(s.Tracing.Address) {
		t.Fatalf("the observability case resolved to %+v", s.Tracing)
	}
	for _, r := range rules {
		if err := r.check(golden, s); err != nil {
			t.Fatalf("rule %q fails on the unmutated observability bootstrap: %v", r.name, err)
		}
	}
	for _, m := range []struct {
		what   string
		check  func(*bootstrapv3.Bootstrap, Settings) error
		mutate func(t *testing.T, b *bootstrapv3.Bootstrap)
	}{
		{"the inbound side has the default span name", checkSpanNames, func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing.Operation = DefaultInboundSpanName })
		}},
		{"the kubelet's probes are logged", checkAccessLog, func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.AccessLog[0].Filter = nil })
		}},
		{"the TCP chain logs nothing", checkAccessLog, func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editTCPProxy(t, b, OutboundListenerName, func(p *tcp_proxyv3.TcpProxy) { p.AccessLog = nil })
		}},
		{"the HTTP log has no trace id", checkAccessLog, func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
				editAny(t, h.GetAccessLog()[0].GetTypedConfig(), new(streamv3.StdoutAccessLog), func(l *streamv3.StdoutAccessLog) {
					src := l.GetLogFormat().GetTextFormatSource()
					src.Specifier = &corev3.DataSource_InlineString{InlineString: strings.ReplaceAll(src.GetInlineString(), "%TRACE_ID%", "")}
				})
			})
		}},
		{"a short name loses its search list", checkCollectorDNS, func(t *testing.T, b *bootstrapv3.Bootstrap) {
			var bl builder
			r, err := bl.tracingResolver()
			if err != nil {
				t.Fatal(err)
			}
			mustCluster(t, b, TracingClusterName).TypedDnsResolverConfig = r
		}},
	} {
		t.Run(m.what, func(t *testing.T) {
			b := proto.Clone(golden).(*bootstrapv3.Bootstrap)
			m.mutate(t, b)
			if proto.Equal(b, golden) {
				t.Fatal("the mutation changed nothing")
			}
			if err := m.check(b, s); err == nil {
				t.Errorf("the rule holds on a bootstrap where %s", m.what)
			}
		})
	}
}

// checkSparingDNS checks the resolution options sparingDNS sets.
//
//nolint:staticcheck // SA1019: the deprecated fields sparingDNS sets on purpose.
func checkSparingDNS(c *clusterv3.Cluster) error {
	if !c.GetRespectDnsTtl() || c.GetDnsRefreshRate().AsDuration() != TracingDNSRefresh || c.GetDnsJitter() == nil {
		return fmt.Errorf("%s: respect_dns_ttl %v, dns_refresh_rate %v, dns_jitter %v; want true, %v and a jitter",
			TracingClusterName, c.GetRespectDnsTtl(), c.GetDnsRefreshRate().AsDuration(), c.GetDnsJitter(), TracingDNSRefresh)
	}
	if f := c.GetDnsFailureRefreshRate(); f.GetBaseInterval().AsDuration() <= 0 || f.GetMaxInterval().AsDuration() > TracingDNSRefresh {
		return fmt.Errorf("%s: dns_failure_refresh_rate %v: a failed resolution must be retried sooner than a refresh", TracingClusterName, f)
	}
	return nil
}
