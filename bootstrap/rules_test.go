package bootstrap

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcp_proxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// No Envoy runs in these tests (hack/envoy-validate.sh runs one where there is one), so the
// behaviour of Envoy that the bootstrap relies on is written down here as rules, each with
// where Envoy documents it, and held against every golden bootstrap. TestRulesCatchMutations
// breaks each rule on purpose, so that none can pass by checking nothing.

// envoyDocs is the root of Envoy's documentation.
const envoyDocs = "https://www.envoyproxy.io/docs/envoy/latest/"

// rule is one property of a bootstrap that Envoy's behaviour makes necessary.
type rule struct {
	name string
	// doc is where Envoy documents the behaviour the rule is about.
	doc string
	// check returns why b, built from s, breaks the rule, or nil.
	check func(b *bootstrapv3.Bootstrap, s Settings) error
}

// rules are checked against every golden bootstrap.
var rules = []rule{{
	name: "no capture listener can pass a connection to itself",
	// Filter chains are matched on the destination port first, before application protocols;
	// a chain naming the port beats those naming none.
	doc:   envoyDocs + "api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch",
	check: checkLoopGuards,
}, {
	name:  "ORIGINAL_DST clusters have no circuit breaking",
	doc:   envoyDocs + "api-v3/config/cluster/v3/circuit_breaker.proto",
	check: checkCircuitBreakers,
}, {
	name: "kubelet probes reach the app unsampled",
	// A route's tracing overrides the HCM's samplings; the first matching route wins.
	doc:   envoyDocs + "api-v3/config/route/v3/route_components.proto#config-route-v3-tracing",
	check: checkProbeRoute,
}, {
	name:  "the health listener has no tracer",
	doc:   envoyDocs + "api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-field-extensions-filters-network-http-connection-manager-v3-httpconnectionmanager-tracing",
	check: checkHealthUntraced,
}, {
	name:  "the Zipkin tracer propagates W3C trace context when asked",
	doc:   envoyDocs + "api-v3/config/trace/v3/zipkin.proto#envoy-v3-api-field-config-trace-v3-zipkinconfig-trace-context-option",
	check: checkPropagation,
}, {
	name: "the tracer speaks the protocol: OTLP/gRPC over HTTP/2 as the service, or Zipkin over HTTP/1.1",
	// envoy_grpc needs an HTTP/2 cluster; service_name is the resource's service.name.
	doc:   envoyDocs + "api-v3/config/trace/v3/opentelemetry.proto",
	check: checkProtocol,
}, {
	name: "a caller's sampling decision is kept; the percentage samples new traces only",
	// random_sampling decides only for a request with no decision of its own (Envoy's
	// ConnectionManagerUtility::mutateTracingRequestHeader runs it when the x-request-id
	// trace reason is not yet set); the Zipkin tracer then takes x-b3-sampled (or the
	// traceparent flags) over the HCM's decision (source/extensions/tracers/zipkin/
	// span_context_extractor.cc, extractSampled), and the OpenTelemetry tracer gives a child
	// span its parent's sampled flag unless a sampler is configured
	// (source/extensions/tracers/opentelemetry/tracer.cc). overall_sampling below 100 would
	// drop traced requests after the fact, a route-level sampling would override the HCM's,
	// and an OpenTelemetry sampler would re-decide for the caller.
	doc:   envoyDocs + "api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-msg-extensions-filters-network-http-connection-manager-v3-httpconnectionmanager-tracing",
	check: checkSamplingFollowsCaller,
}, {
	name: "every span carries the pod, namespace, node and workload",
	// An environment tag reads the variable from Envoy's own environment, so one bootstrap
	// serves every pod of a workload; the injector sets the variables (webhook/inject). With
	// OpenTelemetry they are resource attributes: the environment resource detector reads
	// OTEL_RESOURCE_ATTRIBUTES, the static one carries the workload (checkResourceAttributes,
	// api-v3/extensions/tracers/opentelemetry/resource_detectors/v3/environment_resource_detector.proto).
	doc:   envoyDocs + "api-v3/type/tracing/v3/custom_tag.proto",
	check: checkKubernetesTags,
}, {
	name: "the user's span tags and path tag length are exactly the settings'",
	// A request_header tag is added only when the request has the header; max_path_tag_length
	// truncates http.url (Envoy's default 256 when unset).
	doc:   envoyDocs + "api-v3/type/tracing/v3/custom_tag.proto",
	check: checkUserTags,
}, {
	name: "every listener but admin binds 0.0.0.0 and [::]",
	// In the dual-stack rendering, which the goldens hold; the IPv4-only one leaves [::] out
	// and nothing else (TestIPv4RenderingIsDualStackLessIPv6).
	doc:   envoyDocs + "api-v3/config/listener/v3/listener.proto#envoy-v3-api-field-config-listener-v3-listener-additional-addresses",
	check: checkDualStack,
}, {
	name:  "traffic HCMs never cut idle streams",
	doc:   envoyDocs + "api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-field-extensions-filters-network-http-connection-manager-v3-httpconnectionmanager-stream-idle-timeout",
	check: checkStreamIdleTimeout,
}, {
	name: "CONNECT is proxied to the proxy the app dialled",
	// Without a CONNECT upgrade config the HCM refuses CONNECT; a route without connect_config
	// proxies the request instead of terminating it; only connect_matcher matches HTTP/1.1
	// CONNECT.
	doc:   envoyDocs + "intro/arch_overview/http/upgrades",
	check: checkConnect,
}, {
	name: "absolute-form requests are accepted and not produced",
	// allow_absolute_url defaults to true in source/common/http/http1/settings.cc.
	doc:   envoyDocs + "api-v3/config/core/v3/protocol.proto#envoy-v3-api-field-config-core-v3-http1protocoloptions-allow-absolute-url",
	check: checkAbsoluteURL,
}, {
	name: "only requests that never reached the server are retried",
	// connect-failure, refused-stream and reset-before-request (Envoy 1.31: no byte sent
	// upstream in any attempt, router.cc's first_upstream_tx_byte_sent) are the conditions under
	// which the server cannot have processed the request; reset, 5xx and gateway-error retry
	// requests it may have. retriable-headers retries a response carrying a header that
	// retriable_headers matches (RetryStateImpl::wouldRetryFromHeaders, whatever the status),
	// here only the not-processed marker, which the server's sidecar sets on a request its
	// application never got (the marker rule). A route's policy applies to it alone; a virtual
	// host's to all.
	doc:   envoyDocs + "configuration/http/http_filters/router_filter#x-envoy-retry-on",
	check: checkSafeRetries,
}, {
	name: "a failed health check drains what callers hold, never the app's own connections",
	// Admin POST /healthcheck/fail makes a DEFAULT listener drain-close at once: HTTP/1.1
	// responses get Connection: close, HTTP/2 connections a GOAWAY
	// (DrainManagerImpl::drainClose is true when drain_type is DEFAULT and the health check
	// is failed; the server-wide drain manager is MODIFY_ONLY). MODIFY_ONLY listeners drain
	// only when modified or removed. Also: operations/admin#post--healthcheck-fail,
	// intro/arch_overview/operations/draining.
	doc:   envoyDocs + "api-v3/config/listener/v3/listener.proto#envoy-v3-api-field-config-listener-v3-listener-drain-type",
	check: checkDrainTypes,
}, {
	name: "the readiness probe asks the admin interface's /ready",
	// /ready answers 200 only when the server is LIVE: 503 while it initialises and 503
	// DRAINING once the health check is failed (Utility::serverState), so the probe fails
	// while the pod terminates.
	doc:   envoyDocs + "operations/admin#get--ready",
	check: checkReadiness,
}, {
	name: "only a request the app never got is marked not processed, and no app sees the marker",
	// A local_reply_config mapper's filter is an access log filter (response_flag_filter
	// matches any listed flag); a matched mapper applies only the rewrites it sets
	// (local_reply.cc). UF: upstream connection failure. The virtual host's
	// response_headers_to_remove applies to a local reply before the mappers
	// (Utility::prepareLocalReply), and to every upstream response.
	doc:   envoyDocs + "configuration/http/http_conn_man/local_reply",
	check: checkNotProcessedMarker,
}, {
	name: "the capture listeners keep the connections they accept alive",
	// The listener's tcp_keepalive applies to the listening socket (STATE_PREBIND), whose
	// keepalive settings Linux copies into accepted sockets; additional addresses inherit it
	// unless they set their own tcp_keepalive (any field 0 turns it off) or socket_options.
	doc:   envoyDocs + "api-v3/config/listener/v3/listener.proto#envoy-v3-api-field-config-listener-v3-listener-tcp-keepalive",
	check: checkDownstreamKeepalive,
}, {
	name: "upstream connections are kept alive",
	// Every field unset takes the kernel's default (Linux: 7200 s, 75 s, 9).
	doc:   envoyDocs + "api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-upstreamconnectionoptions-tcp-keepalive",
	check: checkUpstreamKeepalive,
}, {
	name: "TCP passthrough cuts only connections silent for many hours",
	// Unset is 1 h, 0 never; only bytes restart the clock.
	doc:   envoyDocs + "api-v3/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto#envoy-v3-api-field-extensions-filters-network-tcp-proxy-v3-tcpproxy-idle-timeout",
	check: checkTCPIdleTimeout,
}, {
	name:  "the passthroughs close idle upstream connections before a server's keep-alive does",
	doc:   envoyDocs + "api-v3/config/core/v3/protocol.proto#envoy-v3-api-field-config-core-v3-httpprotocoloptions-idle-timeout",
	check: checkUpstreamIdle,
}, {
	name: "the HTTP inspector skips exactly the server-first ports",
	// filter_disabled evaluates against the restored destination when original_dst runs
	// first.
	doc:   envoyDocs + "api-v3/config/listener/v3/listener_components.proto#config-listener-v3-listenerfilterchainmatchpredicate",
	check: checkServerFirst,
}, {
	name:  "the admin interface listens on loopback only",
	doc:   envoyDocs + "operations/admin",
	check: checkAdmin,
}}

// TestRulesHoldForEveryGolden runs every rule on every golden bootstrap, parsed strictly and
// validated as a pod would get it.
func TestRulesHoldForEveryGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := demoCases()
	if len(files) != len(cases) {
		t.Errorf("%d golden files for %d demo cases: a golden without a case is stale, a case without one is untested", len(files), len(cases))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			s, ok := cases[name]
			if !ok {
				t.Fatalf("%s has no demo case", file)
			}
			b := mustParse(t, mustRead(t, file))
			for _, r := range rules {
				if err := r.check(b, s); err != nil {
					t.Errorf("rule %q (%s) is broken: %v", r.name, r.doc, err)
				}
			}
		})
	}
}

// TestRulesCatchMutations breaks each rule in a golden bootstrap and expects it to fail, so
// that no rule passes vacuously. Every rule has at least one mutation.
func TestRulesCatchMutations(t *testing.T) {
	mutations := map[string][]struct {
		what   string
		mutate func(t *testing.T, b *bootstrapv3.Bootstrap)
	}{
		"no capture listener can pass a connection to itself": {
			{"the outbound guard of 15001 is gone", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				l := mustListener(t, b, OutboundListenerName)
				l.FilterChains = slices.DeleteFunc(l.FilterChains, func(fc *listenerv3.FilterChain) bool {
					return fc.GetFilterChainMatch().GetDestinationPort().GetValue() == OutboundPort
				})
			}},
			{"the blackhole has an endpoint", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, BlackholeCluster).LoadAssignment = loadAssignment(BlackholeCluster, "10.0.0.1", 80)
			}},
			{"the inbound guard of 15003 also asks for HTTP", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				for _, fc := range mustListener(t, b, InboundListenerName).GetFilterChains() {
					if fc.GetFilterChainMatch().GetDestinationPort().GetValue() == InboundPort {
						fc.FilterChainMatch.ApplicationProtocols = httpProtocols()
					}
				}
			}},
			{"the guard of 15001 passes through", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				for _, fc := range mustListener(t, b, InboundListenerName).GetFilterChains() {
					if fc.GetFilterChainMatch().GetDestinationPort().GetValue() == OutboundPort {
						fc.Filters = mustListener(t, b, InboundListenerName).GetDefaultFilterChain().GetFilters()
					}
				}
			}},
		},
		"spans are named by the settings' formats, within the commands every Envoy knows": {
			{"the outbound side keeps Envoy's default name", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing.Operation = "" })
			}},
			{"spans are named by their path", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing.Operation = "%REQ(:METHOD)% %PATH%" })
			}},
		},
		"Prometheus scrapes 15090 and reaches nothing of the admin interface but its stats": {
			{"the listener is gone", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				b.StaticResources.Listeners = slices.DeleteFunc(b.StaticResources.Listeners, func(l *listenerv3.Listener) bool { return l.GetName() == PrometheusListenerName })
			}},
			{"the whole admin interface is reachable", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, PrometheusListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0].Match = &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}
				})
			}},
		},
		"the access log is on exactly when asked, on stdout, with the response flags and the trace id": {
			{"the inbound side logs though the access log is off", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				var bl builder
				logs, err := bl.stdoutAccessLog(AccessLogHTTPFormat, nil)
				if err != nil {
					t.Fatal(err)
				}
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.AccessLog = logs })
			}},
		},
		"the collector's name is resolved sparingly: TTLs respected, no search list for a Service's full name": {
			{"TTLs are ignored", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, TracingClusterName).RespectDnsTtl = false //nolint:staticcheck // SA1019: see sparingDNS
			}},
			{"a Service's full name goes through the search list", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, TracingClusterName).TypedDnsResolverConfig = nil
			}},
			{"a failed resolution waits for the next refresh", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, TracingClusterName).DnsFailureRefreshRate = nil //nolint:staticcheck // SA1019: see sparingDNS
			}},
		},
		"ORIGINAL_DST clusters have no circuit breaking": {
			{"Envoy's default of 1024 requests", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, OutboundPassthroughCluster).CircuitBreakers.Thresholds[0].MaxRequests.Value = 1024
			}},
			{"no circuit breakers at all", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, InboundPassthroughCluster).CircuitBreakers = nil
			}},
		},
		"kubelet probes reach the app unsampled": {
			{"the probe route is not first", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					r := h.GetRouteConfig().GetVirtualHosts()[0].Routes
					r[0], r[1] = r[1], r[0]
				})
			}},
			{"probes are sampled at random", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].Routes[0].Tracing.RandomSampling.Numerator = 100
				})
			}},
			{"probes go nowhere near the app", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].Routes[0].Action = passthroughAction(BlackholeCluster)
				})
			}},
			{"the probe match is on another header", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].Routes[0].Match.Headers[0].Name = "x-kube-probe"
				})
			}},
		},
		"the health listener has no tracer": {
			{"the health HCM traces", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				var tracing *hcmv3.HttpConnectionManager_Tracing
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { tracing = h.GetTracing() })
				editHCM(t, b, HealthListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing = tracing })
			}},
		},
		"the Zipkin tracer propagates W3C trace context when asked": {
			{"B3 only although b3+w3c was asked for", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editZipkin(t, b, OutboundListenerName, func(z *tracev3.ZipkinConfig) { z.TraceContextOption = tracev3.ZipkinConfig_USE_B3 })
			}},
			{"no tracer on the inbound side", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing = nil })
			}},
		},
		"the tracer speaks the protocol: OTLP/gRPC over HTTP/2 as the service, or Zipkin over HTTP/1.1": {
			{"the Zipkin cluster asks for HTTP/2", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, TracingClusterName).TypedExtensionProtocolOptions = otlpClusterOptions(t)
			}},
			{"the Zipkin tracer posts elsewhere", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editZipkin(t, b, InboundListenerName, func(z *tracev3.ZipkinConfig) { z.CollectorCluster = OutboundPassthroughCluster })
			}},
		},
		"a caller's sampling decision is kept; the percentage samples new traces only": {
			{"overall sampling at 50%", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.Tracing.OverallSampling = &typev3.Percent{Value: 50}
				})
			}},
			{"random sampling is not the setting", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing.RandomSampling = &typev3.Percent{Value: 1} })
			}},
			{"the passthrough route re-samples", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					for _, r := range h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
						if r.GetName() == PassthroughRouteName {
							r.Tracing = &routev3.Tracing{RandomSampling: &typev3.FractionalPercent{Numerator: 100}}
						}
					}
				})
			}},
		},
		"the user's span tags and path tag length are exactly the settings'": {
			{"a request header tag nobody asked for", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.Tracing.CustomTags = append(h.Tracing.CustomTags, &tracingv3.CustomTag{Tag: "tenant",
						Type: &tracingv3.CustomTag_RequestHeader{RequestHeader: &tracingv3.CustomTag_Header{Name: "x-tenant-id"}}})
				})
			}},
			{"the path tag is cut at 64", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing.MaxPathTagLength = wrapperspb.UInt32(64) })
			}},
		},
		"every span carries the pod, namespace, node and workload": {
			{"no node tag on the inbound side", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.Tracing.CustomTags = h.Tracing.CustomTags[:2] })
			}},
			{"the pod name is a literal", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.Tracing.CustomTags[0].Type = &tracingv3.CustomTag_Literal_{Literal: &tracingv3.CustomTag_Literal{Value: "bookbuyer-0"}}
				})
			}},
			{"the workload is another", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.Tracing.CustomTags[3].GetLiteral().Value = "bookstore-v1"
				})
			}},
		},
		"every listener but admin binds 0.0.0.0 and [::]": {
			{"health is IPv4 only", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, HealthListenerName).AdditionalAddresses = nil
			}},
			{"inbound's [::] also takes IPv4", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, InboundListenerName).AdditionalAddresses[0].Address.GetSocketAddress().Ipv4Compat = true
			}},
			{"outbound's [::] is on another port", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, OutboundListenerName).AdditionalAddresses[0].Address = socketAddress(anyIPv6, 15006)
			}},
		},
		"traffic HCMs never cut idle streams": {
			{"Envoy's default on the inbound side", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.StreamIdleTimeout = nil })
			}},
		},
		"CONNECT is proxied to the proxy the app dialled": {
			{"no CONNECT upgrade", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.UpgradeConfigs = h.UpgradeConfigs[:1] })
			}},
			{"no connect_matcher route", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					vh := h.GetRouteConfig().GetVirtualHosts()[0]
					vh.Routes = slices.DeleteFunc(vh.Routes, func(r *routev3.Route) bool { return r.GetMatch().GetConnectMatcher() != nil })
				})
			}},
			{"Envoy terminates the CONNECT", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					for _, r := range h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
						if r.GetMatch().GetConnectMatcher() != nil {
							r.GetRoute().UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{
								UpgradeType: upgradeConnect, ConnectConfig: &routev3.RouteAction_UpgradeConfig_ConnectConfig{},
							}}
						}
					}
				})
			}},
		},
		"absolute-form requests are accepted and not produced": {
			{"absolute URLs refused", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.HttpProtocolOptions.AllowAbsoluteUrl.Value = false })
			}},
			{"every request sent in absolute form", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHTTPOptions(t, b, OutboundPassthroughCluster, func(o *httpv3.HttpProtocolOptions) {
					o.GetUseDownstreamProtocolConfig().GetHttpProtocolOptions().SendFullyQualifiedUrl = true
				})
			}},
		},
		"only requests that never reached the server are retried": {
			{"5xx responses are retried", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) { p.RetryOn += ",5xx" })
			}},
			{"any reset is retried, after bytes went out too", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, InboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) {
					p.RetryOn = strings.Replace(p.RetryOn, "reset-before-request", "reset", 1)
				})
			}},
			{"outbound requests are not retried at all", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					for _, r := range h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
						r.GetRoute().RetryPolicy = nil
					}
				})
			}},
			{"ten retries", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) { p.NumRetries = wrapperspb.UInt32(10) })
			}},
			{"a per-try timeout cuts slow requests", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, InboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) { p.PerTryTimeout = durationpb.New(15 * time.Second) })
			}},
			{"the kubelet's probes are retried", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0].GetRoute().RetryPolicy = safeRetries(false)
				})
			}},
			{"CONNECT is retried", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					for _, r := range h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
						if r.GetName() == ConnectRouteName {
							r.GetRoute().RetryPolicy = safeRetries(true)
						}
					}
				})
			}},
			{"the whole virtual host retries", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].RetryPolicy = safeRetries(false)
				})
			}},
			{"retries avoid the one host there is", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) {
					p.RetryHostPredicate = []*routev3.RetryPolicy_RetryHostPredicate{{Name: "envoy.retry_host_predicates.previous_hosts"}}
				})
			}},
			{"a reply the callee marked not processed is not retried", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) {
					p.RetryOn, p.RetriableHeaders = safeRetryOn, nil
				})
			}},
			{"the inbound side retries on the marker, to the local app again", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, InboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) { proto.Merge(p, safeRetries(true)) })
			}},
			{"every response without the marker is retried", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) { p.RetriableHeaders[0].InvertMatch = true })
			}},
			{"retried on a header the server's application may send", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) {
					p.RetriableHeaders = append(p.RetriableHeaders, &routev3.HeaderMatcher{Name: "retry-after", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}})
				})
			}},
			{"retried on a header no sidecar sets", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editRetries(t, b, OutboundListenerName, PassthroughRouteName, func(p *routev3.RetryPolicy) { p.RetriableHeaders[0].Name = "x-osm-unprocessed" })
			}},
		},
		"a failed health check drains what callers hold, never the app's own connections": {
			{"the app's own connections are drained", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, OutboundListenerName).DrainType = listenerv3.Listener_DEFAULT
			}},
			{"callers keep their connections to a terminating pod", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, InboundListenerName).DrainType = listenerv3.Listener_MODIFY_ONLY
			}},
			{"the health listener ignores the failed health check", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, HealthListenerName).DrainType = listenerv3.Listener_MODIFY_ONLY
			}},
		},
		"the readiness probe asks the admin interface's /ready": {
			{"the probe asks /server_info, 200 while draining", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, HealthListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0].GetRoute().PrefixRewrite = "/server_info"
				})
			}},
			{"the probe asks the application", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, HealthListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0].GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: InboundPassthroughCluster}
				})
			}},
			{"the admin cluster dials the outbound capture port", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, adminClusterName).LoadAssignment = loadAssignment(adminClusterName, AdminAddress, OutboundPort)
			}},
			{"a catch-all route answers the probe", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, HealthListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0].Match.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: "/"}
				})
			}},
			{"the probe's 503 is rewritten to 200", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, HealthListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.LocalReplyConfig = &hcmv3.LocalReplyConfig{Mappers: []*hcmv3.ResponseMapper{{
						Filter:     &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_StatusCodeFilter{StatusCodeFilter: &accesslogv3.StatusCodeFilter{}}},
						StatusCode: wrapperspb.UInt32(200),
					}}}
				})
			}},
		},
		"only a request the app never got is marked not processed, and no app sees the marker": {
			{"nothing is marked", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.LocalReplyConfig = nil })
			}},
			{"a connection reset after the request went out is marked too", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editLocalReply(t, b, func(m *hcmv3.ResponseMapper) {
					f := m.GetFilter().GetResponseFlagFilter()
					f.Flags = append(f.Flags, "UC")
				})
			}},
			{"every local reply is marked", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editLocalReply(t, b, func(m *hcmv3.ResponseMapper) {
					m.Filter = &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{}}}
				})
			}},
			{"the marked reply is a 502", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editLocalReply(t, b, func(m *hcmv3.ResponseMapper) { m.StatusCode = wrapperspb.UInt32(502) })
			}},
			{"the marked reply's body is replaced", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editLocalReply(t, b, func(m *hcmv3.ResponseMapper) {
					m.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "try again"}}
				})
			}},
			{"every local reply is reformatted", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.LocalReplyConfig.BodyFormat = &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
						TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "%LOCAL_REPLY_BODY%"}},
					}}
				})
			}},
			{"the marker is not the header callers retry on", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editLocalReply(t, b, func(m *hcmv3.ResponseMapper) { m.HeadersToAdd[0].Header.Key = "x-osm-unprocessed" })
			}},
			{"the outbound side marks its own replies, which go to the app", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				var c *hcmv3.LocalReplyConfig
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) { c = h.GetLocalReplyConfig() })
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) { h.LocalReplyConfig = c })
			}},
			{"the app sees the marker when the retries run out", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, OutboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].ResponseHeadersToRemove = nil
				})
			}},
			{"the app can send the marker", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					h.GetRouteConfig().GetVirtualHosts()[0].ResponseHeadersToRemove = nil
				})
			}},
			{"a route adds the marker to the app's responses", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
					r := h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()[0]
					r.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: NotProcessedHeader, Value: NotProcessedConnectFailure}}}
				})
			}},
		},
		"the capture listeners keep the connections they accept alive": {
			{"inbound accepts without keepalive", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, InboundListenerName).TcpKeepalive = nil
			}},
			{"[::] turns keepalive off", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, InboundListenerName).AdditionalAddresses[0].TcpKeepalive = &corev3.TcpKeepalive{KeepaliveTime: wrapperspb.UInt32(0)}
			}},
			{"[::] sets socket options of its own", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, OutboundListenerName).AdditionalAddresses[0].SocketOptions = &corev3.SocketOptionsOverride{}
			}},
			{"the kernel's 2 h before the first probe", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, OutboundListenerName).TcpKeepalive.KeepaliveTime = nil
			}},
			{"the first probe after Azure's load balancer forgot the flow", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, InboundListenerName).TcpKeepalive.KeepaliveTime = wrapperspb.UInt32(300)
			}},
		},
		"upstream connections are kept alive": {
			{"outbound passthrough without keepalive", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, OutboundPassthroughCluster).UpstreamConnectionOptions = nil
			}},
			{"the tracing cluster without keepalive", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, TracingClusterName).UpstreamConnectionOptions = nil
			}},
			{"Linux's 75 s between probes", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, InboundPassthroughCluster).UpstreamConnectionOptions.TcpKeepalive.KeepaliveInterval = nil
			}},
			{"probes that disable keepalive", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustCluster(t, b, OutboundPassthroughCluster).UpstreamConnectionOptions.TcpKeepalive.KeepaliveProbes = wrapperspb.UInt32(0)
			}},
		},
		"TCP passthrough cuts only connections silent for many hours": {
			{"Envoy's default of 1 hour", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editTCPProxy(t, b, OutboundListenerName, func(p *tcp_proxyv3.TcpProxy) { p.IdleTimeout = nil })
			}},
			{"never, not even a connection forgotten for a week", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editTCPProxy(t, b, InboundListenerName, func(p *tcp_proxyv3.TcpProxy) { p.IdleTimeout = durationpb.New(0) })
			}},
			{"sooner than MySQL's wait_timeout", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editTCPProxy(t, b, OutboundListenerName, func(p *tcp_proxyv3.TcpProxy) { p.IdleTimeout = durationpb.New(4 * time.Hour) })
			}},
		},
		"the passthroughs close idle upstream connections before a server's keep-alive does": {
			{"as long as Node's keep-alive", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHTTPOptions(t, b, InboundPassthroughCluster, func(o *httpv3.HttpProtocolOptions) {
					o.CommonHttpProtocolOptions.IdleTimeout.Seconds = 5
				})
			}},
			{"Envoy's default of 1 hour", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHTTPOptions(t, b, InboundPassthroughCluster, func(o *httpv3.HttpProtocolOptions) { o.CommonHttpProtocolOptions = nil })
			}},
			{"Envoy's default of 1 hour on the outbound one", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				editHTTPOptions(t, b, OutboundPassthroughCluster, func(o *httpv3.HttpProtocolOptions) { o.CommonHttpProtocolOptions = nil })
			}},
		},
		"the HTTP inspector skips exactly the server-first ports": {
			{"the inspector runs on every port", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, InboundListenerName).ListenerFilters[1].FilterDisabled = nil
			}},
			{"MySQL is inspected", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, OutboundListenerName).ListenerFilters[1].FilterDisabled = portsPredicate([]uint32{22, 25})
			}},
			{"HTTP on 8080 is not inspected", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				mustListener(t, b, OutboundListenerName).ListenerFilters[1].FilterDisabled = portsPredicate(append(defaultServerFirst(), 8080))
			}},
			{"the inspector runs before the destination is restored", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				f := mustListener(t, b, OutboundListenerName).ListenerFilters
				f[0], f[1] = f[1], f[0]
			}},
		},
		"the admin interface listens on loopback only": {
			{"admin on every interface", func(t *testing.T, b *bootstrapv3.Bootstrap) {
				b.Admin.Address = socketAddress(anyIPv4, AdminPort)
			}},
		},
	}
	golden := mustParse(t, mustRead(t, filepath.Join("testdata", "bookbuyer.yaml")))
	s := demoCases()["bookbuyer"]
	for _, r := range rules {
		if err := r.check(golden, s); err != nil {
			t.Fatalf("rule %q fails on the unmutated bookbuyer bootstrap: %v", r.name, err)
		}
		ms := mutations[r.name]
		if len(ms) == 0 {
			t.Errorf("rule %q has no mutation: nothing shows it can fail", r.name)
		}
		for _, m := range ms {
			t.Run(r.name+"/"+m.what, func(t *testing.T) {
				b := proto.Clone(golden).(*bootstrapv3.Bootstrap)
				m.mutate(t, b)
				if proto.Equal(b, golden) {
					t.Fatal("the mutation changed nothing")
				}
				if err := r.check(b, s); err == nil {
					t.Errorf("the rule holds on a bootstrap where %s", m.what)
				} else {
					t.Logf("fails as it should: %v", err)
				}
			})
		}
	}
	for name := range mutations {
		if !slices.ContainsFunc(rules, func(r rule) bool { return r.name == name }) {
			t.Errorf("mutations of %q, which is no rule", name)
		}
	}
}

// TestTagsRules breaks the bootstrap with user tags (bookbuyer-tags) and expects the rule to
// notice; TestRulesCatchMutations works on one without.
func TestTagsRules(t *testing.T) {
	golden := mustParse(t, mustRead(t, filepath.Join("testdata", "bookbuyer-tags.yaml")))
	s := demoCases()["bookbuyer-tags"]
	const want = "region=literal:eu-west-1\nteam=literal:payments\ntenant=header:x-tenant-id"
	if s.Tracing.Tags != want || s.Tracing.MaxPathTagLength != 1024 {
		t.Fatalf("the tags case resolved to tags %q, max path tag length %d; want %q and 1024", s.Tracing.Tags, s.Tracing.MaxPathTagLength, want)
	}
	for _, r := range rules {
		if err := r.check(golden, s); err != nil {
			t.Fatalf("rule %q fails on the unmutated tags bootstrap: %v", r.name, err)
		}
	}
	for what, mutate := range map[string]func(*hcmv3.HttpConnectionManager){
		"the header tag is gone": func(h *hcmv3.HttpConnectionManager) {
			h.Tracing.CustomTags = h.Tracing.CustomTags[:len(h.Tracing.CustomTags)-1]
		},
		"the team is the MeshConfig's":   func(h *hcmv3.HttpConnectionManager) { h.Tracing.CustomTags[5].GetLiteral().Value = "platform" },
		"the path tag length is Envoy's": func(h *hcmv3.HttpConnectionManager) { h.Tracing.MaxPathTagLength = nil },
	} {
		t.Run(what, func(t *testing.T) {
			b := proto.Clone(golden).(*bootstrapv3.Bootstrap)
			editHCM(t, b, InboundListenerName, mutate)
			if err := checkUserTags(b, s); err == nil {
				t.Errorf("the rule holds on a bootstrap where %s", what)
			}
		})
	}
}

// TestOpenTelemetryRules breaks the OpenTelemetry bootstrap in the ways that matter and
// expects the rules to notice (TestRulesCatchMutations works on a Zipkin bootstrap).
func TestOpenTelemetryRules(t *testing.T) {
	golden := mustParse(t, mustRead(t, filepath.Join("testdata", "bookbuyer-otlp.yaml")))
	s := demoCases()["bookbuyer-otlp"]
	if s.Tracing.Port != DefaultOTLPPort || s.Tracing.Endpoint != "" {
		t.Fatalf("the OTLP case resolved to port %d, endpoint %q; want %d and none", s.Tracing.Port, s.Tracing.Endpoint, DefaultOTLPPort)
	}
	for _, r := range rules {
		if err := r.check(golden, s); err != nil {
			t.Fatalf("rule %q fails on the unmutated OTLP bootstrap: %v", r.name, err)
		}
	}
	editOTel := func(t *testing.T, b *bootstrapv3.Bootstrap, listener string, edit func(*tracev3.OpenTelemetryConfig)) {
		editHCM(t, b, listener, func(h *hcmv3.HttpConnectionManager) {
			editAny(t, h.GetTracing().GetProvider().GetTypedConfig(), new(tracev3.OpenTelemetryConfig), edit)
		})
	}
	for _, m := range []struct {
		rule, what string
		mutate     func(t *testing.T, b *bootstrapv3.Bootstrap)
	}{
		{checkProtocolName, "the cluster speaks HTTP/1.1", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			mustCluster(t, b, TracingClusterName).TypedExtensionProtocolOptions = nil
		}},
		{checkProtocolName, "the cluster follows the downstream protocol", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editHTTPOptions(t, b, TracingClusterName, func(o *httpv3.HttpProtocolOptions) {
				o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{UseDownstreamProtocolConfig: &httpv3.HttpProtocolOptions_UseDownstreamHttpConfig{}}
			})
		}},
		{checkProtocolName, "spans carry Envoy's default service name", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editOTel(t, b, OutboundListenerName, func(o *tracev3.OpenTelemetryConfig) { o.ServiceName = "" })
		}},
		{checkProtocolName, "the exporter dials another cluster", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editOTel(t, b, InboundListenerName, func(o *tracev3.OpenTelemetryConfig) {
				o.GetGrpcService().GetEnvoyGrpc().ClusterName = OutboundPassthroughCluster
			})
		}},
		{checkProtocolName, "OTLP over HTTP instead of gRPC", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editOTel(t, b, InboundListenerName, func(o *tracev3.OpenTelemetryConfig) {
				o.GrpcService = nil
				o.HttpService = &corev3.HttpService{HttpUri: &corev3.HttpUri{Uri: "http://jaeger:4318/v1/traces", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: TracingClusterName}}}
			})
		}},
		{checkProtocolName, "the collector is dialled on the Zipkin port", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			mustCluster(t, b, TracingClusterName).LoadAssignment = loadAssignment(TracingClusterName, s.Tracing.Address, DefaultZipkinPort)
		}},
		{checkSamplingName, "a sampler re-decides for the caller", func(t *testing.T, b *bootstrapv3.Bootstrap) {
			editOTel(t, b, OutboundListenerName, func(o *tracev3.OpenTelemetryConfig) {
				o.Sampler = &corev3.TypedExtensionConfig{Name: "envoy.tracers.opentelemetry.samplers.always_on", TypedConfig: mustAny(t, &corev3.Http2ProtocolOptions{})}
			})
		}},
	} {
		t.Run(m.what, func(t *testing.T) {
			i := slices.IndexFunc(rules, func(r rule) bool { return r.name == m.rule })
			if i < 0 {
				t.Fatalf("no rule %q", m.rule)
			}
			b := proto.Clone(golden).(*bootstrapv3.Bootstrap)
			m.mutate(t, b)
			if proto.Equal(b, golden) {
				t.Fatal("the mutation changed nothing")
			}
			if err := rules[i].check(b, s); err == nil {
				t.Errorf("rule %q holds on a bootstrap where %s", m.rule, m.what)
			}
		})
	}
}

// The names of the rules TestOpenTelemetryRules mutates.
const (
	checkProtocolName = "the tracer speaks the protocol: OTLP/gRPC over HTTP/2 as the service, or Zipkin over HTTP/1.1"
	checkSamplingName = "a caller's sampling decision is kept; the percentage samples new traces only"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// otlpClusterOptions are the HTTP/2 options of an OTLP tracing cluster.
func otlpClusterOptions(t *testing.T) map[string]*anypb.Any {
	return map[string]*anypb.Any{httpProtocolOptionsName: mustAny(t, &httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
		}},
	})}
}

func checkProtocol(b *bootstrapv3.Bootstrap, s Settings) error {
	if !s.Tracing.Enable {
		return nil // checkPropagation checks that nothing traces
	}
	otel := s.Tracing.Protocol == ProtocolOpenTelemetry
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		p := h.GetTracing().GetProvider()
		if !otel {
			z := new(tracev3.ZipkinConfig)
			if p.GetName() != ZipkinTracerName || p.GetTypedConfig().UnmarshalTo(z) != nil {
				return fmt.Errorf("listener %s: tracer %q, want the Zipkin tracer", c.listener, p.GetName())
			}
			if z.GetCollectorCluster() != TracingClusterName {
				return fmt.Errorf("listener %s: the Zipkin tracer posts to %q, want %s", c.listener, z.GetCollectorCluster(), TracingClusterName)
			}
			continue
		}
		o := new(tracev3.OpenTelemetryConfig)
		if p.GetName() != OpenTelemetryTracerName || p.GetTypedConfig().UnmarshalTo(o) != nil {
			return fmt.Errorf("listener %s: tracer %q, want the OpenTelemetry tracer", c.listener, p.GetName())
		}
		if o.GetHttpService() != nil || o.GetGrpcService().GetEnvoyGrpc().GetClusterName() != TracingClusterName {
			return fmt.Errorf("listener %s: the OpenTelemetry tracer exports %v, want gRPC (envoy_grpc) to %s", c.listener, o, TracingClusterName)
		}
		if o.GetServiceName() != s.ServiceName {
			return fmt.Errorf("listener %s: service_name %q, want %q", c.listener, o.GetServiceName(), s.ServiceName)
		}
	}
	tc := findCluster(b, TracingClusterName)
	if tc == nil {
		return fmt.Errorf("no cluster %s", TracingClusterName)
	}
	if got := tc.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetPortValue(); got != s.Tracing.Port {
		return fmt.Errorf("%s dials port %d, want %d", TracingClusterName, got, s.Tracing.Port)
	}
	opts := tc.GetTypedExtensionProtocolOptions()
	if !otel {
		if len(opts) != 0 {
			return fmt.Errorf("the Zipkin cluster %s has protocol options %v; Zipkin posts are HTTP/1.1", TracingClusterName, opts)
		}
		return nil
	}
	o := new(httpv3.HttpProtocolOptions)
	if a := opts[httpProtocolOptionsName]; a == nil || a.UnmarshalTo(o) != nil {
		return fmt.Errorf("the OTLP cluster %s has no %s: it would speak HTTP/1.1 to a gRPC server", TracingClusterName, httpProtocolOptionsName)
	}
	if o.GetExplicitHttpConfig().GetHttp2ProtocolOptions() == nil {
		return fmt.Errorf("the OTLP cluster %s is not explicitly HTTP/2: %v", TracingClusterName, o)
	}
	return nil
}

func checkKubernetesTags(b *bootstrapv3.Bootstrap, s Settings) error {
	if !s.Tracing.Enable {
		return nil
	}
	if s.Tracing.Protocol == ProtocolOpenTelemetry {
		return checkResourceAttributes(b, s)
	}
	want := map[string]string{TagPodName: "env:" + EnvPodName, TagNamespaceName: "env:" + EnvPodNamespace, TagNodeName: "env:" + EnvNodeName}
	if tag := WorkloadTag(s.Workload); tag != "" {
		want[tag] = "literal:" + s.Workload.Name
	}
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, ct := range h.GetTracing().GetCustomTags() {
			switch {
			case ct.GetEnvironment() != nil:
				got[ct.GetTag()] = "env:" + ct.GetEnvironment().GetName()
			case ct.GetLiteral() != nil:
				got[ct.GetTag()] = "literal:" + ct.GetLiteral().GetValue()
			}
		}
		for tag, v := range want {
			if got[tag] != v {
				return fmt.Errorf("listener %s: tag %s is %q, want %q", c.listener, tag, got[tag], v)
			}
		}
	}
	return nil
}

func checkUserTags(b *bootstrapv3.Bootstrap, s Settings) error {
	if !s.Tracing.Enable {
		return nil
	}
	want := parseTags(s.Tracing.Tags)
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, ct := range h.GetTracing().GetCustomTags() {
			switch {
			case ct.GetRequestHeader() != nil:
				got[ct.GetTag()] = tagHeader + ct.GetRequestHeader().GetName()
			case ct.GetLiteral() != nil && !builtinTag(ct.GetTag()):
				got[ct.GetTag()] = tagLiteral + ct.GetLiteral().GetValue()
			case ct.GetEnvironment() != nil && !builtinTag(ct.GetTag()):
				got[ct.GetTag()] = "env:" + ct.GetEnvironment().GetName()
			}
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("listener %s: user tags %v, want %v", c.listener, got, want)
		}
		if n := h.GetTracing().GetMaxPathTagLength(); (n == nil) != (s.Tracing.MaxPathTagLength == 0) || n.GetValue() != s.Tracing.MaxPathTagLength {
			return fmt.Errorf("listener %s: max_path_tag_length %v, want %d (0: unset)", c.listener, n, s.Tracing.MaxPathTagLength)
		}
	}
	return nil
}

func checkSamplingFollowsCaller(b *bootstrapv3.Bootstrap, s Settings) error {
	if !s.Tracing.Enable {
		return nil
	}
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		tr := h.GetTracing()
		if got := tr.GetRandomSampling().GetValue(); tr.GetRandomSampling() == nil || got != s.Tracing.Sampling {
			return fmt.Errorf("listener %s: random_sampling %v, want %v", c.listener, tr.GetRandomSampling(), s.Tracing.Sampling)
		}
		for what, p := range map[string]interface{ GetValue() float64 }{"overall_sampling": tr.GetOverallSampling(), "client_sampling": tr.GetClientSampling()} {
			if p != nil && p.(*typev3.Percent) != nil && p.GetValue() != 100 {
				return fmt.Errorf("listener %s: %s %v, want unset (100%%): it would override a caller's decision", c.listener, what, p.GetValue())
			}
		}
		for _, r := range h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
			if r.GetName() != ProbeRouteName && r.GetTracing() != nil {
				return fmt.Errorf("listener %s: route %s overrides the HCM's sampling: %v", c.listener, r.GetName(), r.GetTracing())
			}
		}
		o := new(tracev3.OpenTelemetryConfig)
		if h.GetTracing().GetProvider().GetTypedConfig().UnmarshalTo(o) == nil && o.GetSampler() != nil {
			return fmt.Errorf("listener %s: the OpenTelemetry tracer has sampler %s, which would re-decide for the caller", c.listener, o.GetSampler().GetName())
		}
	}
	return nil
}

// TestPropagationRuleB3: with propagation b3, the W3C option is a break of the rule too.
func TestPropagationRuleB3(t *testing.T) {
	b := mustParse(t, mustRead(t, filepath.Join("testdata", "bookbuyer-b3.yaml")))
	s := demoCases()["bookbuyer-b3"]
	if err := checkPropagation(b, s); err != nil {
		t.Fatal(err)
	}
	editZipkin(t, b, InboundListenerName, func(z *tracev3.ZipkinConfig) {
		z.TraceContextOption = tracev3.ZipkinConfig_USE_B3_WITH_W3C_PROPAGATION
	})
	if checkPropagation(b, s) == nil {
		t.Error("W3C propagation passes although b3 was asked for")
	}
}

// capture names the capture listeners and their passthrough clusters.
var capture = []struct{ listener, cluster string }{
	{OutboundListenerName, OutboundPassthroughCluster},
	{InboundListenerName, InboundPassthroughCluster},
}

func checkLoopGuards(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		l := findListener(b, c.listener)
		if l == nil {
			return fmt.Errorf("no listener %s", c.listener)
		}
		for _, port := range []uint32{OutboundPort, InboundPort} {
			var guards []*listenerv3.FilterChain
			for _, fc := range l.GetFilterChains() {
				if fc.GetFilterChainMatch().GetDestinationPort().GetValue() == port {
					guards = append(guards, fc)
				}
			}
			if len(guards) != 1 {
				return fmt.Errorf("listener %s has %d filter chains for destination port %d, want 1", c.listener, len(guards), port)
			}
			// Nothing but the port may be asked, or a connection could miss the guard.
			want := &listenerv3.FilterChainMatch{DestinationPort: guards[0].GetFilterChainMatch().GetDestinationPort()}
			if !proto.Equal(guards[0].GetFilterChainMatch(), want) {
				return fmt.Errorf("listener %s: the guard of port %d matches more than the port: %v", c.listener, port, guards[0].GetFilterChainMatch())
			}
			fs := guards[0].GetFilters()
			if len(fs) == 0 {
				return fmt.Errorf("listener %s: the guard of port %d has no filter", c.listener, port)
			}
			p := new(tcp_proxyv3.TcpProxy)
			if err := fs[len(fs)-1].GetTypedConfig().UnmarshalTo(p); err != nil {
				return fmt.Errorf("listener %s: the guard of port %d does not end in tcp_proxy: %w", c.listener, port, err)
			}
			if err := checkNoEndpoints(b, p.GetCluster()); err != nil {
				return fmt.Errorf("listener %s: the guard of port %d: %w", c.listener, port, err)
			}
		}
	}
	return nil
}

// checkNoEndpoints: name is a STATIC cluster without endpoints.
func checkNoEndpoints(b *bootstrapv3.Bootstrap, name string) error {
	c := findCluster(b, name)
	switch {
	case c == nil:
		return fmt.Errorf("no cluster %q", name)
	case c.GetType() != clusterv3.Cluster_STATIC:
		return fmt.Errorf("cluster %s is %v, not STATIC: it could find endpoints", name, c.GetType())
	}
	for _, e := range c.GetLoadAssignment().GetEndpoints() {
		if len(e.GetLbEndpoints()) > 0 {
			return fmt.Errorf("cluster %s has endpoints", name)
		}
	}
	return nil
}

func checkCircuitBreakers(b *bootstrapv3.Bootstrap, _ Settings) error {
	n := 0
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetType() != clusterv3.Cluster_ORIGINAL_DST {
			continue
		}
		n++
		var def *clusterv3.CircuitBreakers_Thresholds
		for _, th := range c.GetCircuitBreakers().GetThresholds() {
			if th.GetPriority() == corev3.RoutingPriority_DEFAULT {
				def = th
			}
		}
		if def == nil {
			return fmt.Errorf("cluster %s has no thresholds for the default priority: Envoy's 1024 apply", c.GetName())
		}
		for what, v := range map[string]interface{ GetValue() uint32 }{
			"max_connections": def.GetMaxConnections(), "max_pending_requests": def.GetMaxPendingRequests(),
			"max_requests": def.GetMaxRequests(), "max_retries": def.GetMaxRetries(),
		} {
			if v == nil || v.GetValue() != math.MaxUint32 {
				return fmt.Errorf("cluster %s: %s is %v, want %d", c.GetName(), what, v, uint32(math.MaxUint32))
			}
		}
	}
	if n < len(capture) {
		return fmt.Errorf("%d ORIGINAL_DST clusters, want the %d passthrough clusters", n, len(capture))
	}
	return nil
}

func checkProbeRoute(b *bootstrapv3.Bootstrap, _ Settings) error {
	h, err := theHCM(b, InboundListenerName)
	if err != nil {
		return err
	}
	vhs := h.GetRouteConfig().GetVirtualHosts()
	if len(vhs) != 1 || len(vhs[0].GetRoutes()) == 0 {
		return errors.New("the inbound route config is not one virtual host with routes")
	}
	r := vhs[0].GetRoutes()[0]
	m := r.GetMatch()
	hs := m.GetHeaders()
	if m.GetPrefix() != "/" || len(hs) != 1 || hs[0].GetName() != "user-agent" || hs[0].GetInvertMatch() ||
		hs[0].GetStringMatch().GetPrefix() != ProbeUserAgentPrefix || hs[0].GetStringMatch().GetIgnoreCase() {
		return fmt.Errorf("the first inbound route does not match every path with User-Agent prefix %s: %v", ProbeUserAgentPrefix, m)
	}
	tr := r.GetTracing()
	for what, p := range map[string]interface{ GetNumerator() uint32 }{
		"client_sampling": tr.GetClientSampling(), "random_sampling": tr.GetRandomSampling(), "overall_sampling": tr.GetOverallSampling(),
	} {
		// An unset sampling means 100%.
		if p == nil || p.GetNumerator() != 0 {
			return fmt.Errorf("the probe route's %s is %v, want 0%%", what, p)
		}
	}
	if got := r.GetRoute().GetCluster(); got != InboundPassthroughCluster {
		return fmt.Errorf("the probe route goes to %q, not to the app through %s", got, InboundPassthroughCluster)
	}
	return nil
}

func checkHealthUntraced(b *bootstrapv3.Bootstrap, _ Settings) error {
	h, err := theHCM(b, HealthListenerName)
	if err != nil {
		return err
	}
	if h.GetTracing() != nil {
		return errors.New("the health HCM has a tracer")
	}
	return nil
}

func checkPropagation(b *bootstrapv3.Bootstrap, s Settings) error {
	if s.Tracing.Enable && s.Tracing.Protocol == ProtocolOpenTelemetry {
		return nil // W3C only, whatever the setting: nothing to choose (checkProtocol)
	}
	want := tracev3.ZipkinConfig_USE_B3
	if s.Tracing.Propagation == PropagationB3W3C {
		want = tracev3.ZipkinConfig_USE_B3_WITH_W3C_PROPAGATION
	}
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		if !s.Tracing.Enable {
			if h.GetTracing() != nil {
				return fmt.Errorf("tracing is off but listener %s traces", c.listener)
			}
			continue
		}
		z := new(tracev3.ZipkinConfig)
		if err := h.GetTracing().GetProvider().GetTypedConfig().UnmarshalTo(z); err != nil {
			return fmt.Errorf("listener %s has no Zipkin tracer: %w", c.listener, err)
		}
		if got := z.GetTraceContextOption(); got != want {
			return fmt.Errorf("listener %s: trace_context_option %v, want %v for propagation %q", c.listener, got, want, s.Tracing.Propagation)
		}
	}
	return nil
}

func checkDualStack(b *bootstrapv3.Bootstrap, _ Settings) error {
	ls := b.GetStaticResources().GetListeners()
	if len(ls) == 0 {
		return errors.New("no listeners")
	}
	for _, l := range ls {
		main := l.GetAddress().GetSocketAddress()
		if main.GetAddress() != anyIPv4 || main.GetIpv4Compat() {
			return fmt.Errorf("listener %s binds %s, want %s", l.GetName(), main.GetAddress(), anyIPv4)
		}
		extra := l.GetAdditionalAddresses()
		if len(extra) != 1 {
			return fmt.Errorf("listener %s has %d additional addresses, want [::]", l.GetName(), len(extra))
		}
		v6 := extra[0].GetAddress().GetSocketAddress()
		if v6.GetAddress() != anyIPv6 || v6.GetPortValue() != main.GetPortValue() || v6.GetIpv4Compat() {
			return fmt.Errorf("listener %s: additional address %v, want [::]:%d IPv6 only", l.GetName(), v6, main.GetPortValue())
		}
	}
	return nil
}

func checkStreamIdleTimeout(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		if d := h.GetStreamIdleTimeout(); d == nil || d.AsDuration() != 0 {
			return fmt.Errorf("listener %s: stream_idle_timeout %v, want 0s (unset is 5 minutes)", c.listener, d)
		}
	}
	return nil
}

func checkConnect(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(h.GetUpgradeConfigs(), func(u *hcmv3.HttpConnectionManager_UpgradeConfig) bool {
			return strings.EqualFold(u.GetUpgradeType(), upgradeConnect) && (u.GetEnabled() == nil || u.GetEnabled().GetValue())
		}) {
			return fmt.Errorf("listener %s: no CONNECT upgrade", c.listener)
		}
		routes := h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes()
		i := slices.IndexFunc(routes, func(r *routev3.Route) bool { return r.GetMatch().GetConnectMatcher() != nil })
		if i < 0 {
			return fmt.Errorf("listener %s: no connect_matcher route", c.listener)
		}
		if j := slices.IndexFunc(routes, func(r *routev3.Route) bool {
			return r.GetMatch().GetPrefix() == "/" && len(r.GetMatch().GetHeaders()) == 0
		}); j >= 0 && j < i {
			return fmt.Errorf("listener %s: the connect_matcher route comes after the catch-all", c.listener)
		}
		a := routes[i].GetRoute()
		if a.GetCluster() != c.cluster {
			return fmt.Errorf("listener %s: CONNECT goes to %q, want %s", c.listener, a.GetCluster(), c.cluster)
		}
		for _, u := range a.GetUpgradeConfigs() {
			if u.GetConnectConfig() != nil {
				return fmt.Errorf("listener %s: the CONNECT route terminates CONNECT (connect_config)", c.listener)
			}
		}
	}
	return nil
}

func checkAbsoluteURL(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		if v := h.GetHttpProtocolOptions().GetAllowAbsoluteUrl(); v == nil || !v.GetValue() {
			return fmt.Errorf("listener %s: allow_absolute_url is not true (set: %t)", c.listener, v != nil)
		}
	}
	for _, cl := range b.GetStaticResources().GetClusters() {
		a, ok := cl.GetTypedExtensionProtocolOptions()[httpProtocolOptionsName]
		if !ok {
			continue
		}
		o := new(httpv3.HttpProtocolOptions)
		if err := a.UnmarshalTo(o); err != nil {
			return fmt.Errorf("cluster %s: %w", cl.GetName(), err)
		}
		for _, h1 := range []*corev3.Http1ProtocolOptions{
			o.GetExplicitHttpConfig().GetHttpProtocolOptions(), o.GetUseDownstreamProtocolConfig().GetHttpProtocolOptions(),
			o.GetAutoConfig().GetHttpProtocolOptions(),
		} {
			if h1.GetSendFullyQualifiedUrl() {
				return fmt.Errorf("cluster %s sends every request in absolute form", cl.GetName())
			}
		}
	}
	return nil
}

// minTCPIdle is MySQL's default wait_timeout, the shortest idle limit a common database
// server sets on its own connections: the sidecar must not cut a quiet one sooner. 0, which
// Envoy reads as no limit at all, fails the check too: forgotten connections would pile up.
const minTCPIdle = 8 * time.Hour

func checkTCPIdleTimeout(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		l := findListener(b, c.listener)
		fs := l.GetDefaultFilterChain().GetFilters()
		if len(fs) == 0 {
			return fmt.Errorf("listener %s has no TCP chain", c.listener)
		}
		p := new(tcp_proxyv3.TcpProxy)
		if err := fs[len(fs)-1].GetTypedConfig().UnmarshalTo(p); err != nil {
			return fmt.Errorf("listener %s: the TCP chain does not end in tcp_proxy: %w", c.listener, err)
		}
		if p.GetCluster() != c.cluster {
			return fmt.Errorf("listener %s: the TCP chain goes to %q, want %s", c.listener, p.GetCluster(), c.cluster)
		}
		if d := p.GetIdleTimeout(); d == nil || d.AsDuration() < minTCPIdle {
			return fmt.Errorf("listener %s: tcp_proxy idle_timeout %v, want %v or more (unset is 1 hour)", c.listener, d, minTCPIdle)
		}
	}
	return nil
}

// safeConditions are the retry_on conditions under which Envoy knows the server did not
// process the request.
var safeConditions = []string{"connect-failure", "refused-stream", "reset-before-request"}

// maxSafeRetries bounds the attempts a request that cannot connect makes, each up to the 5 s
// connect timeout.
const maxSafeRetries = 3

func checkSafeRetries(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		h, err := theHCM(b, c.listener)
		if err != nil {
			return err
		}
		vh := h.GetRouteConfig().GetVirtualHosts()[0]
		if vh.GetRetryPolicy() != nil || vh.GetRetryPolicyTypedConfig() != nil || vh.GetHedgePolicy() != nil {
			return fmt.Errorf("listener %s: the virtual host retries every route, the probe and CONNECT ones too", c.listener)
		}
		found := false
		for _, r := range vh.GetRoutes() {
			a := r.GetRoute()
			if a.GetTimeout() == nil || a.GetTimeout().AsDuration() != 0 {
				return fmt.Errorf("listener %s: route %s has timeout %v, want 0s: the application's own timeouts rule", c.listener, r.GetName(), a.GetTimeout())
			}
			p := a.GetRetryPolicy()
			if r.GetName() != PassthroughRouteName {
				if p != nil || a.GetHedgePolicy() != nil {
					return fmt.Errorf("listener %s: route %s retries", c.listener, r.GetName())
				}
				continue
			}
			found = true
			if err := checkSafeRetryPolicy(p, c.listener == OutboundListenerName); err != nil {
				return fmt.Errorf("listener %s: route %s: %w", c.listener, r.GetName(), err)
			}
		}
		if !found {
			return fmt.Errorf("listener %s has no route %s", c.listener, PassthroughRouteName)
		}
	}
	return nil
}

// checkSafeRetryPolicy: p retries on exactly the safe conditions, and with notProcessed (the
// outbound side) on the not-processed marker too, a few times, with nothing else that would
// retry, time out or steer a request.
func checkSafeRetryPolicy(p *routev3.RetryPolicy, notProcessed bool) error {
	if p == nil {
		return errors.New("no retry policy: a request refused during a rollout fails")
	}
	want := slices.Clone(safeConditions)
	if notProcessed {
		want = append(want, "retriable-headers")
	}
	slices.Sort(want)
	on := strings.Split(p.GetRetryOn(), ",")
	slices.Sort(on)
	if !slices.Equal(on, want) {
		return fmt.Errorf("retry_on %q, want exactly %q", p.GetRetryOn(), strings.Join(want, ","))
	}
	if n := p.GetNumRetries(); n == nil || n.GetValue() == 0 || n.GetValue() > maxSafeRetries {
		return fmt.Errorf("num_retries %v, want 1 to %d (unset is 1)", n, maxSafeRetries)
	}
	if p.GetPerTryTimeout() != nil || p.GetPerTryIdleTimeout() != nil {
		return errors.New("a per-try timeout would cut requests the application lets run")
	}
	if len(p.GetRetryHostPredicate()) > 0 || p.GetRetryPriority() != nil || p.GetHostSelectionRetryMaxAttempts() != 0 {
		return errors.New("host predicates steer retries, but an ORIGINAL_DST cluster has one host per destination")
	}
	if len(p.GetRetriableStatusCodes()) > 0 || len(p.GetRetriableRequestHeaders()) > 0 {
		return errors.New("retriable status codes or request headers: responses come from a server that saw the request")
	}
	hs := p.GetRetriableHeaders()
	if !notProcessed {
		if len(hs) > 0 {
			return fmt.Errorf("retriable headers %v: behind the inbound side is only the local application, which a header retry would not avoid", hs)
		}
		return nil
	}
	if len(hs) != 1 || !isPresenceOf(hs[0], NotProcessedHeader) {
		return fmt.Errorf("retriable headers %v, want exactly the presence of %s: any other header comes from a server that may have processed the request", hs, NotProcessedHeader)
	}
	return nil
}

// isPresenceOf: m matches exactly the responses that carry header name, whatever its value.
func isPresenceOf(m *routev3.HeaderMatcher, name string) bool {
	return m.GetName() == name && m.GetPresentMatch() && !m.GetInvertMatch() && !m.GetTreatMissingHeaderAsEmpty()
}

// checkDrainTypes: the outbound listener carries the application's own connections and is
// MODIFY_ONLY; every other one drains when the health check is failed.
func checkDrainTypes(b *bootstrapv3.Bootstrap, _ Settings) error {
	ls := b.GetStaticResources().GetListeners()
	if !slices.ContainsFunc(ls, func(l *listenerv3.Listener) bool { return l.GetName() == OutboundListenerName }) {
		return fmt.Errorf("no listener %s", OutboundListenerName)
	}
	for _, l := range ls {
		got := l.GetDrainType()
		switch {
		case l.GetName() == OutboundListenerName && got != listenerv3.Listener_MODIFY_ONLY:
			return fmt.Errorf("listener %s: drain_type %v, want MODIFY_ONLY: failing the health check would close the application's own connections to its sidecar while it shuts down", l.GetName(), got)
		case l.GetName() != OutboundListenerName && got != listenerv3.Listener_DEFAULT:
			return fmt.Errorf("listener %s: drain_type %v, want DEFAULT: failing the health check would leave the connections callers and probes hold to the terminating pod open", l.GetName(), got)
		}
	}
	return nil
}

// readyPath is the admin interface's readiness endpoint.
const readyPath = "/ready"

func checkReadiness(b *bootstrapv3.Bootstrap, _ Settings) error {
	return checkAdminPathListener(b, HealthListenerName, HealthPort, HealthReadyPath, readyPath)
}

// checkAdminPathListener checks a listener adminPathListener builds: on anyIPv4:port, one
// route, for exactly path, to the admin interface (its one endpoint AdminAddress:AdminPort)
// with the path rewritten to rewrite ("" for none), and nothing else: no other route, no
// tracer, no access log, no rewriting of its local replies (the readiness probe's 503
// among them).
func checkAdminPathListener(b *bootstrapv3.Bootstrap, name string, port uint32, path, rewrite string) error {
	l := findListener(b, name)
	if l == nil {
		return fmt.Errorf("no listener %s", name)
	}
	if got := l.GetAddress().GetSocketAddress(); got.GetPortValue() != port || got.GetAddress() != anyIPv4 {
		return fmt.Errorf("listener %s binds %s:%d, want %s:%d", name, got.GetAddress(), got.GetPortValue(), anyIPv4, port)
	}
	h, err := theHCM(b, name)
	if err != nil {
		return err
	}
	vhs := h.GetRouteConfig().GetVirtualHosts()
	if len(vhs) != 1 || len(vhs[0].GetRoutes()) != 1 {
		return fmt.Errorf("listener %s: the route config is not one virtual host with one route", name)
	}
	r := vhs[0].GetRoutes()[0]
	if r.GetMatch().GetPath() != path || len(r.GetMatch().GetHeaders()) > 0 {
		return fmt.Errorf("listener %s: the route matches %v, want exactly the path %s", name, r.GetMatch(), path)
	}
	a := r.GetRoute()
	if a.GetCluster() != adminClusterName || a.GetPrefixRewrite() != rewrite || a.GetRegexRewrite() != nil || a.GetPathRewritePolicy() != nil {
		return fmt.Errorf("listener %s: %s goes to cluster %q as %q, want %s as %q", name, path, a.GetCluster(), a.GetPrefixRewrite(), adminClusterName, rewrite)
	}
	c := findCluster(b, adminClusterName)
	eps := c.GetLoadAssignment().GetEndpoints()
	if len(eps) != 1 || len(eps[0].GetLbEndpoints()) != 1 {
		return fmt.Errorf("cluster %s has not exactly one endpoint", adminClusterName)
	}
	sa := eps[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if sa.GetAddress() != AdminAddress || sa.GetPortValue() != AdminPort {
		return fmt.Errorf("cluster %s dials %s:%d, not the admin interface %s:%d", adminClusterName, sa.GetAddress(), sa.GetPortValue(), AdminAddress, AdminPort)
	}
	if h.GetTracing() != nil || len(h.GetAccessLog()) > 0 {
		return fmt.Errorf("listener %s traces or logs its requests", name)
	}
	if h.GetLocalReplyConfig() != nil {
		return fmt.Errorf("listener %s rewrites its local replies", name)
	}
	return nil
}

func checkNotProcessedMarker(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, name := range []string{OutboundListenerName, InboundListenerName, HealthListenerName} {
		h, err := theHCM(b, name)
		if err != nil {
			return err
		}
		if name == InboundListenerName {
			if err := checkNotProcessedReply(h.GetLocalReplyConfig()); err != nil {
				return fmt.Errorf("listener %s: %w", name, err)
			}
		} else if h.GetLocalReplyConfig() != nil {
			return fmt.Errorf("listener %s has a local_reply_config: only the inbound side marks replies, for the callers' sidecars", name)
		}
		if name == HealthListenerName {
			continue
		}
		// The marker reaches no application, and none can forge it: every virtual host
		// removes it, and nothing adds it but the inbound mapper.
		rc := h.GetRouteConfig()
		if addsHeader(rc.GetResponseHeadersToAdd(), NotProcessedHeader) {
			return fmt.Errorf("listener %s: the route configuration adds %s to responses", name, NotProcessedHeader)
		}
		for _, vh := range rc.GetVirtualHosts() {
			if !slices.Contains(vh.GetResponseHeadersToRemove(), NotProcessedHeader) {
				return fmt.Errorf("listener %s: virtual host %s does not remove %s: the application could see it, or send it", name, vh.GetName(), NotProcessedHeader)
			}
			if addsHeader(vh.GetResponseHeadersToAdd(), NotProcessedHeader) {
				return fmt.Errorf("listener %s: virtual host %s adds %s", name, vh.GetName(), NotProcessedHeader)
			}
			for _, r := range vh.GetRoutes() {
				if addsHeader(r.GetResponseHeadersToAdd(), NotProcessedHeader) {
					return fmt.Errorf("listener %s: route %s adds %s", name, r.GetName(), NotProcessedHeader)
				}
			}
		}
	}
	return nil
}

// checkNotProcessedReply: c adds the marker to the local replies flagged UF, and only to
// them, and changes nothing else of any reply.
func checkNotProcessedReply(c *hcmv3.LocalReplyConfig) error {
	if c.GetBodyFormat() != nil {
		return fmt.Errorf("body_format %v reformats every local reply", c.GetBodyFormat())
	}
	ms := c.GetMappers()
	if len(ms) != 1 {
		return fmt.Errorf("%d local reply mappers, want 1: a request its application never got goes unmarked, or others are rewritten", len(ms))
	}
	m := ms[0]
	if got := m.GetFilter().GetResponseFlagFilter().GetFlags(); !slices.Equal(got, []string{"UF"}) {
		return fmt.Errorf("the mapper's filter %v, want a response_flag_filter of UF alone: other flags come after request bytes went out", m.GetFilter())
	}
	if m.GetStatusCode() != nil || m.GetBody() != nil || m.GetBodyFormatOverride() != nil {
		return fmt.Errorf("the mapper rewrites the reply (status %v, body %v, format %v): it must only add %s", m.GetStatusCode(), m.GetBody(), m.GetBodyFormatOverride(), NotProcessedHeader)
	}
	hs := m.GetHeadersToAdd()
	if len(hs) != 1 || hs[0].GetHeader().GetKey() != NotProcessedHeader || hs[0].GetHeader().GetValue() != NotProcessedConnectFailure {
		return fmt.Errorf("the mapper adds %v, want %s: %s alone", hs, NotProcessedHeader, NotProcessedConnectFailure)
	}
	return nil
}

// addsHeader: opts add header name.
func addsHeader(opts []*corev3.HeaderValueOption, name string) bool {
	return slices.ContainsFunc(opts, func(o *corev3.HeaderValueOption) bool { return strings.EqualFold(o.GetHeader().GetKey(), name) })
}

// Keepalive bounds: the first probe must come before the shortest common middlebox idle
// timeout that drops a quiet flow silently (Azure's load balancer, 4 min), and a peer that
// vanished must be found within minutes.
const (
	maxKeepaliveTime    = 4 * time.Minute
	maxKeepaliveVerdict = 5 * time.Minute
)

// checkKeepalive: k turns keepalive on with every field set (an unset one is the node's
// sysctl), none 0 (which turns it off), and finds a dead peer within maxKeepaliveVerdict.
func checkKeepalive(k *corev3.TcpKeepalive) error {
	if k == nil {
		return errors.New("no tcp_keepalive: the kernel's default is none at all")
	}
	fields := map[string]*wrapperspb.UInt32Value{
		"keepalive_time": k.GetKeepaliveTime(), "keepalive_interval": k.GetKeepaliveInterval(), "keepalive_probes": k.GetKeepaliveProbes(),
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		switch v := fields[name]; {
		case v == nil:
			return fmt.Errorf("%s is unset: the node's sysctl decides", name)
		case v.GetValue() == 0:
			return fmt.Errorf("%s is 0, which turns keepalive off", name)
		}
	}
	idle := time.Duration(k.GetKeepaliveTime().GetValue()) * time.Second
	if idle >= maxKeepaliveTime {
		return fmt.Errorf("the first probe after %v: a load balancer dropping quiet flows after %v would have forgotten it", idle, maxKeepaliveTime)
	}
	verdict := idle + time.Duration(k.GetKeepaliveProbes().GetValue()*k.GetKeepaliveInterval().GetValue())*time.Second
	if verdict > maxKeepaliveVerdict {
		return fmt.Errorf("a dead peer is found after %v, want at most %v", verdict, maxKeepaliveVerdict)
	}
	return nil
}

func checkDownstreamKeepalive(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, c := range capture {
		l := findListener(b, c.listener)
		if l == nil {
			return fmt.Errorf("no listener %s", c.listener)
		}
		if err := checkKeepalive(l.GetTcpKeepalive()); err != nil {
			return fmt.Errorf("listener %s: %w", c.listener, err)
		}
		if len(l.GetSocketOptions()) > 0 {
			return fmt.Errorf("listener %s has socket_options %v, which could undo its keepalive", c.listener, l.GetSocketOptions())
		}
		for _, a := range l.GetAdditionalAddresses() {
			if a.GetTcpKeepalive() != nil || a.GetSocketOptions() != nil {
				return fmt.Errorf("listener %s: additional address %v overrides the listener's keepalive", c.listener, a.GetAddress().GetSocketAddress())
			}
		}
	}
	return nil
}

func checkUpstreamKeepalive(b *bootstrapv3.Bootstrap, s Settings) error {
	names := []string{OutboundPassthroughCluster, InboundPassthroughCluster}
	if s.Tracing.Enable {
		names = append(names, TracingClusterName)
	}
	for _, name := range names {
		c := findCluster(b, name)
		if c == nil {
			return fmt.Errorf("no cluster %s", name)
		}
		if err := checkKeepalive(c.GetUpstreamConnectionOptions().GetTcpKeepalive()); err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		if len(c.GetUpstreamBindConfig().GetSocketOptions()) > 0 {
			return fmt.Errorf("cluster %s has upstream socket_options, which could undo its keepalive", name)
		}
	}
	return nil
}

// nodeKeepAlive is Node.js's default keepAliveTimeout, among the shortest in common use.
const nodeKeepAlive = 5 * time.Second

func checkUpstreamIdle(b *bootstrapv3.Bootstrap, _ Settings) error {
	for _, name := range []string{InboundPassthroughCluster, OutboundPassthroughCluster} {
		cl := findCluster(b, name)
		if cl == nil {
			return fmt.Errorf("no cluster %s", name)
		}
		o := new(httpv3.HttpProtocolOptions)
		if err := cl.GetTypedExtensionProtocolOptions()[httpProtocolOptionsName].UnmarshalTo(o); err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		d := o.GetCommonHttpProtocolOptions().GetIdleTimeout()
		if d == nil || d.AsDuration() <= 0 || d.AsDuration() >= nodeKeepAlive {
			return fmt.Errorf("cluster %s: upstream idle_timeout %v, want more than 0 and less than %v", name, d, nodeKeepAlive)
		}
	}
	return nil
}

func checkServerFirst(b *bootstrapv3.Bootstrap, s Settings) error {
	want := serverFirstPorts(s)
	if !slices.Contains(want, 3306) {
		return fmt.Errorf("the server-first ports %v lack the defaults", want)
	}
	for _, c := range capture {
		l := findListener(b, c.listener)
		names := make([]string, len(l.GetListenerFilters()))
		for i, f := range l.GetListenerFilters() {
			names[i] = f.GetName()
		}
		dst, insp := slices.Index(names, originalDstFilterName), slices.Index(names, httpInspectorFilterName)
		if dst < 0 || insp < 0 || dst > insp {
			return fmt.Errorf("listener %s: listener filters %v, want original_dst before http_inspector", c.listener, names)
		}
		pred := l.GetListenerFilters()[insp].GetFilterDisabled()
		var skipped []uint32
		for port := uint32(1); port <= 65535; port++ {
			match, err := predicateMatches(pred, int32(port))
			if err != nil {
				return fmt.Errorf("listener %s: %w", c.listener, err)
			}
			if match {
				skipped = append(skipped, port)
			}
		}
		if !slices.Equal(skipped, want) {
			return fmt.Errorf("listener %s: the HTTP inspector skips %v, want %v", c.listener, skipped, want)
		}
	}
	return nil
}

// predicateMatches evaluates a listener filter predicate for a connection to port; nil
// matches nothing (the filter is never disabled).
func predicateMatches(p *listenerv3.ListenerFilterChainMatchPredicate, port int32) (bool, error) {
	if p == nil {
		return false, nil
	}
	switch r := p.GetRule().(type) {
	case *listenerv3.ListenerFilterChainMatchPredicate_DestinationPortRange:
		return port >= r.DestinationPortRange.GetStart() && port < r.DestinationPortRange.GetEnd(), nil
	case *listenerv3.ListenerFilterChainMatchPredicate_AnyMatch:
		return r.AnyMatch, nil
	case *listenerv3.ListenerFilterChainMatchPredicate_NotMatch:
		m, err := predicateMatches(r.NotMatch, port)
		return !m, err
	case *listenerv3.ListenerFilterChainMatchPredicate_OrMatch, *listenerv3.ListenerFilterChainMatchPredicate_AndMatch:
		rules, or := p.GetOrMatch().GetRules(), p.GetOrMatch() != nil
		if !or {
			rules = p.GetAndMatch().GetRules()
		}
		for _, sub := range rules {
			m, err := predicateMatches(sub, port)
			if err != nil || m == or {
				return m, err
			}
		}
		return !or, nil
	}
	return false, fmt.Errorf("predicate %v is not supported by the test", p)
}

func checkAdmin(b *bootstrapv3.Bootstrap, _ Settings) error {
	a := b.GetAdmin().GetAddress().GetSocketAddress()
	if a.GetAddress() != AdminAddress || a.GetPortValue() != AdminPort {
		return fmt.Errorf("admin on %s:%d, want %s:%d", a.GetAddress(), a.GetPortValue(), AdminAddress, AdminPort)
	}
	return nil
}

// findListener is the listener called name, or nil.
func findListener(b *bootstrapv3.Bootstrap, name string) *listenerv3.Listener {
	for _, l := range b.GetStaticResources().GetListeners() {
		if l.GetName() == name {
			return l
		}
	}
	return nil
}

// findCluster is the cluster called name, or nil.
func findCluster(b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

// hcmFilterOf is the HCM network filter of listener name (its one HTTP chain).
func hcmFilterOf(b *bootstrapv3.Bootstrap, name string) (*listenerv3.Filter, error) {
	l := findListener(b, name)
	if l == nil {
		return nil, fmt.Errorf("no listener %s", name)
	}
	var found []*listenerv3.Filter
	for _, fc := range append(slices.Clone(l.GetFilterChains()), l.GetDefaultFilterChain()) {
		for _, f := range fc.GetFilters() {
			if f.GetName() == hcmFilterName {
				found = append(found, f)
			}
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("listener %s has %d HTTP connection managers, want 1", name, len(found))
	}
	return found[0], nil
}

// theHCM decodes the HCM of listener name.
func theHCM(b *bootstrapv3.Bootstrap, name string) (*hcmv3.HttpConnectionManager, error) {
	f, err := hcmFilterOf(b, name)
	if err != nil {
		return nil, err
	}
	h := new(hcmv3.HttpConnectionManager)
	if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
		return nil, fmt.Errorf("listener %s: %w", name, err)
	}
	return h, nil
}

// The mutation helpers below fail the test rather than return errors.

func mustListener(t *testing.T, b *bootstrapv3.Bootstrap, name string) *listenerv3.Listener {
	t.Helper()
	l := findListener(b, name)
	if l == nil {
		t.Fatalf("no listener %s", name)
	}
	return l
}

func mustCluster(t *testing.T, b *bootstrapv3.Bootstrap, name string) *clusterv3.Cluster {
	t.Helper()
	c := findCluster(b, name)
	if c == nil {
		t.Fatalf("no cluster %s", name)
	}
	return c
}

// repack replaces the content of a with m.
// editAny unpacks the message a holds into m, lets edit change it and packs it back.
func editAny[M proto.Message](t *testing.T, a *anypb.Any, m M, edit func(M)) {
	t.Helper()
	if err := a.UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if err := a.MarshalFrom(m); err != nil {
		t.Fatal(err)
	}
}

func editHCM(t *testing.T, b *bootstrapv3.Bootstrap, listener string, edit func(*hcmv3.HttpConnectionManager)) {
	t.Helper()
	f, err := hcmFilterOf(b, listener)
	if err != nil {
		t.Fatal(err)
	}
	editAny(t, f.GetTypedConfig(), new(hcmv3.HttpConnectionManager), edit)
}

func editZipkin(t *testing.T, b *bootstrapv3.Bootstrap, listener string, edit func(*tracev3.ZipkinConfig)) {
	t.Helper()
	editHCM(t, b, listener, func(h *hcmv3.HttpConnectionManager) {
		editAny(t, h.GetTracing().GetProvider().GetTypedConfig(), new(tracev3.ZipkinConfig), edit)
	})
}

func editTCPProxy(t *testing.T, b *bootstrapv3.Bootstrap, listenerName string, edit func(*tcp_proxyv3.TcpProxy)) {
	t.Helper()
	a := mustListener(t, b, listenerName).GetDefaultFilterChain().GetFilters()[0].GetTypedConfig()
	editAny(t, a, new(tcp_proxyv3.TcpProxy), edit)
}

// editRetries edits the retry policy of route routeName of listener's HCM.
func editRetries(t *testing.T, b *bootstrapv3.Bootstrap, listener, routeName string, edit func(*routev3.RetryPolicy)) {
	t.Helper()
	editHCM(t, b, listener, func(h *hcmv3.HttpConnectionManager) {
		for _, r := range h.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
			if r.GetName() == routeName {
				edit(r.GetRoute().GetRetryPolicy())
				return
			}
		}
		t.Fatalf("listener %s has no route %s", listener, routeName)
	})
}

// editLocalReply edits the inbound HCM's one local reply mapper.
func editLocalReply(t *testing.T, b *bootstrapv3.Bootstrap, edit func(*hcmv3.ResponseMapper)) {
	t.Helper()
	editHCM(t, b, InboundListenerName, func(h *hcmv3.HttpConnectionManager) {
		ms := h.GetLocalReplyConfig().GetMappers()
		if len(ms) != 1 {
			t.Fatalf("the inbound HCM has %d local reply mappers, want 1", len(ms))
		}
		edit(ms[0])
	})
}

func editHTTPOptions(t *testing.T, b *bootstrapv3.Bootstrap, clusterName string, edit func(*httpv3.HttpProtocolOptions)) {
	t.Helper()
	a := mustCluster(t, b, clusterName).GetTypedExtensionProtocolOptions()[httpProtocolOptionsName]
	editAny(t, a, new(httpv3.HttpProtocolOptions), edit)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
