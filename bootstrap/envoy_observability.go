package bootstrap

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// stdoutAccessLogName is Envoy's standard output access logger.
const stdoutAccessLogName = "envoy.access_loggers.stdout"

// stdoutAccessLog writes one line of format per exchange or connection to Envoy's standard
// output, which the container runtime keeps as the envoy container's log. Istio's sidecars log
// to /dev/stdout the same way when accessLogFile is set; Linkerd's proxy to stderr. filter,
// when set, keeps some requests out (see notProbes).
func (bl *builder) stdoutAccessLog(format string, filter *accesslogv3.AccessLogFilter) ([]*accesslogv3.AccessLog, error) {
	typed, err := bl.pack(&streamv3.StdoutAccessLog{AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{
		LogFormat: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
			TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: format}},
		}},
	}})
	if err != nil {
		return nil, err
	}
	return []*accesslogv3.AccessLog{{Name: stdoutAccessLogName, Filter: filter, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: typed}}}, nil
}

// notProbes keeps the kubelet's HTTP probes out of the inbound access log: they reach the
// application through the inbound listener (only tcpSocket probe ports bypass the redirect),
// and a line per probe every few seconds would bury the lines an operator looks for. It
// matches as the inbound probe route does (the User-Agent's kube-probe/ prefix), inverted; a
// request without a User-Agent is logged.
func notProbes() *accesslogv3.AccessLogFilter {
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_HeaderFilter{HeaderFilter: &accesslogv3.HeaderFilter{
		Header: &routev3.HeaderMatcher{
			Name:                 "user-agent",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: ProbeUserAgentPrefix}}},
			InvertMatch:          true,
		},
	}}}
}

// prometheusListener serves Envoy's statistics in Prometheus' text format on PrometheusPort,
// on every address of the pod, for a Prometheus that scrapes pods: GET PrometheusPath goes to
// the admin interface's own /stats/prometheus, on loopback; nothing else of the admin
// interface is routed, so nothing on the network can change Envoy through it (Istio's
// sidecar does the same on 15090; config checked, checkPrometheus). No tracer and no access log: a scrape every few seconds
// would bury both.
func (bl *builder) prometheusListener() (*listenerv3.Listener, error) {
	return bl.adminPathListener(PrometheusListenerName, PrometheusPort, PrometheusPath, "")
}
