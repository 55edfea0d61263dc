package node

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/e2e/testimages"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// jaegerSpan is one span of Jaeger's query API (/api/traces), with its process.
type jaegerSpan struct {
	TraceID, Name, Service string
	Tags, Process          map[string]string
}

// jaegerTraces reads /api/traces?service=S through the port-forward at ui, spans flattened.
func jaegerTraces(ctx context.Context, ui, service string) ([]jaegerSpan, error) {
	body, err := httpGet(ctx, "http://"+ui+"/api/traces?limit=20&service="+url.QueryEscape(service))
	if err != nil {
		return nil, err
	}
	type kv struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
	tags := func(kvs []kv) map[string]string {
		m := map[string]string{}
		for _, t := range kvs {
			m[t.Key] = fmt.Sprint(t.Value)
		}
		return m
	}
	var answer struct {
		Data []struct {
			TraceID string `json:"traceID"`
			Spans   []struct {
				OperationName string `json:"operationName"`
				ProcessID     string `json:"processID"`
				Tags          []kv   `json:"tags"`
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
				Tags        []kv   `json:"tags"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		return nil, fmt.Errorf("%w: %.300s", err, body)
	}
	var out []jaegerSpan
	for _, tr := range answer.Data {
		for _, s := range tr.Spans {
			p := tr.Processes[s.ProcessID]
			out = append(out, jaegerSpan{TraceID: tr.TraceID, Name: s.OperationName, Service: p.ServiceName,
				Tags: tags(s.Tags), Process: tags(p.Tags)})
		}
	}
	return out, nil
}

// jaegerWait bounds a wait for spans in Jaeger: they are there within a second or two of
// their export, and a wrong name must not hold the scenario until its own time out.
const jaegerWait = 45 * time.Second

// findSpan waits until Jaeger has a span of service for which match returns nil, and returns
// it; on time out, the test fails with the last reason and the names seen.
func findSpan(ctx context.Context, t *testing.T, ui, service, what string, match func(jaegerSpan) error) jaegerSpan {
	t.Helper()
	// The queries run under the scenario's ctx: one cut short by the wait's deadline would
	// replace the last mismatch, which says what Jaeger has, with a context error.
	wait, cancel := context.WithTimeout(ctx, jaegerWait)
	defer cancel()
	var found jaegerSpan
	framework.Eventually(wait, t, what, func() error {
		spans, err := jaegerTraces(ctx, ui, service)
		if err != nil {
			return err
		}
		var seen []string
		for _, s := range spans {
			if err := match(s); err != nil {
				seen = append(seen, fmt.Sprintf("%q (%v)", s.Name, err))
				continue
			}
			found = s
			return nil
		}
		return fmt.Errorf("%w: %d spans of %s, none fits: %s", errNotYet, len(spans), service, strings.Join(seen, "; "))
	})
	return found
}

// allTags are a span's tags and its process's.
func allTags(s jaegerSpan) map[string]string {
	m := map[string]string{}
	maps.Copy(m, s.Process)
	maps.Copy(m, s.Tags)
	return m
}

// wantTags says which of want the tags lack or have otherwise.
func wantTags(tags, want map[string]string) error {
	for k, v := range want {
		if tags[k] != v {
			return fmt.Errorf("%s=%q, want %q (tags %v)", k, tags[k], v, tags)
		}
	}
	return nil
}

// traces reads back from Jaeger the spans of the redirect step (Zipkin): their names are the
// bootstrap's defaults rendered by the sidecar (outbound: the method and the authority the
// app asked for; inbound: the method and the port it serves), and their tags carry the pod
// and its namespace (the environment custom tags). Jaeger v2's Zipkin receiver (the
// OpenTelemetry collector's Zipkin translator) moves tags named like resource attributes,
// k8s.pod.name among them, to the resource, so they are looked for among the span's tags
// and its process's. The stand-in renders the names and tags from the bootstrap as Envoy
// would; Envoy's own rendering is config checked.
func (m *mesh) traces(ctx context.Context, t *testing.T) {
	ui := m.forwardJaeger(ctx, t)
	buyer := m.podOf(ctx, t, buyerNS, "bookbuyer")
	store := m.podOf(ctx, t, storeNS, "bookstore")
	out := "GET " + net.JoinHostPort("bookstore.bookstore.svc.cluster.local", portApp)
	s := findSpan(ctx, t, ui, "bookbuyer", "bookbuyer's outbound span "+out, func(s jaegerSpan) error {
		if s.Name != out {
			return errNotYet
		}
		return wantTags(allTags(s), map[string]string{bootstrap.TagPodName: buyer.Name, bootstrap.TagNamespaceName: buyerNS})
	})
	t.Logf("bookbuyer's span %q tags %v process %v", s.Name, s.Tags, s.Process)
	in := "GET :" + portApp
	s = findSpan(ctx, t, ui, "bookstore", "bookstore's inbound span "+in, func(s jaegerSpan) error {
		if s.Name != in {
			return errNotYet
		}
		return wantTags(allTags(s), map[string]string{bootstrap.TagPodName: store.Name, bootstrap.TagNamespaceName: storeNS})
	})
	t.Logf("bookstore's span %q tags %v process %v", s.Name, s.Tags, s.Process)
}

// bookreaderYAML is a workload whose pod asks for the OpenTelemetry protocol on Jaeger's
// OTLP/gRPC port by annotation: the one pod of the scenario whose sidecar exports OTLP.
var bookreaderYAML = strings.NewReplacer("TESTAPP", testimages.TestAppImage).Replace(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: bookreader, namespace: bookbuyer}
spec:
  replicas: 1
  selector: {matchLabels: {app: bookreader}}
  template:
    metadata:
      labels: {app: bookreader}
      annotations:
        tracing.openservicemesh.io/protocol: opentelemetry
        tracing.openservicemesh.io/port: "4317"
        openservicemesh.io/access-log: "true"
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: bookreader
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [serve, --port, "8080"]
`)

// otlp runs bookreader, whose sidecar exports OTLP/gRPC to Jaeger's 4317, makes one request
// from it, and reads its span back: the service is bookreader (the resource's service.name),
// Jaeger's process tags are the resource attributes (pod, namespace and node from the
// environment detector, the workload from the static one) and the span carries none of them.
func (m *mesh) otlp(ctx context.Context, t *testing.T) {
	began := time.Now()
	m.sh.OK(t, "kubectl apply -f - <<'EOF'\n"+bookreaderYAML+"\nEOF")
	t.Cleanup(func() {
		_, _, _ = m.c.KubectlContext(context.Background(), "delete", "deployment", "bookreader", "-n", buyerNS, "--wait=false")
	})
	m.sh.OK(t, "kubectl wait --for=condition=Available deployment/bookreader -n "+buyerNS+" --timeout=2m")
	reader := m.podOf(ctx, t, buyerNS, "bookreader")
	ready, err := firstEvent(m.events(ctx, t, buyerNS, reader.Name, inject.EnvoyContainerName), "ready")
	if err != nil || ready.Tracer != bootstrap.OpenTelemetryTracerName {
		t.Fatalf("bookreader's stand-in: ready %s, %v; want tracer %s", ready, err, bootstrap.OpenTelemetryTracerName)
	}
	target := "http://" + net.JoinHostPort("bookstore.bookstore.svc.cluster.local", portApp) + "/"
	if out, errOut, err := m.c.Exec(ctx, buyerNS, reader.Name, "bookreader", "/testapp", "get", "--timeout", "10s", target); err != nil {
		t.Fatalf("GET %s from bookreader: %v\n%s%s", target, err, out, errOut)
	}
	var sent event
	wctx, cancel := context.WithTimeout(ctx, jaegerWait)
	defer cancel()
	framework.Eventually(wctx, t, "bookreader's stand-in to export its span", func() error {
		for _, e := range m.events(wctx, t, buyerNS, reader.Name, inject.EnvoyContainerName) {
			switch e.Event {
			case "span_sent":
				sent = e
				return nil
			case "span_error":
				t.Fatalf("bookreader's stand-in could not export: %s", e)
			}
		}
		return errNotYet
	})
	if sent.GRPCStatus != "OK" || sent.Collector != "grpc://jaeger.osm-system.svc.cluster.local:4317" {
		t.Errorf("span exported to %s with gRPC status %q, want OK from grpc://jaeger.osm-system.svc.cluster.local:4317", sent.Collector, sent.GRPCStatus)
	}
	m.accessLog(ctx, t, reader.Name, sent.TraceID)
	ui := m.forwardJaeger(ctx, t)
	name := "GET " + net.JoinHostPort("bookstore.bookstore.svc.cluster.local", portApp)
	workload := bootstrap.WorkloadTag(bootstrap.Workload{Kind: bootstrap.KindDeployment, Name: "bookreader"})
	s := findSpan(ctx, t, ui, "bookreader", "bookreader's OTLP span "+name, func(s jaegerSpan) error {
		if s.Name != name {
			return errNotYet
		}
		if err := wantTags(s.Process, map[string]string{bootstrap.TagPodName: reader.Name, bootstrap.TagNamespaceName: buyerNS,
			bootstrap.TagNodeName: reader.Spec.NodeName, workload: "bookreader"}); err != nil {
			return fmt.Errorf("process: %w", err)
		}
		if v, ok := s.Tags[bootstrap.TagPodName]; ok {
			return fmt.Errorf("the pod is a span tag too (%s), not only a resource attribute", v)
		}
		return nil
	})
	t.Logf("OTLP leg in %s: bookreader's span %q, service %s, process tags %v",
		time.Since(began).Round(time.Millisecond), s.Name, s.Service, s.Process)
}

// prometheus scrapes bookstore's sidecar on the Prometheus port from the node, as a
// Prometheus server would, and parses the text exposition: the stand-in's own counters
// (envoystandin_*, not Envoy's statistics), among them the inbound requests it relayed.
func (m *mesh) prometheus(ctx context.Context, t *testing.T) {
	store := m.podOf(ctx, t, storeNS, "bookstore")
	target := fmt.Sprintf("http://%s%s", net.JoinHostPort(podIP(store, false), fmt.Sprint(bootstrap.PrometheusPort)), bootstrap.PrometheusPath)
	body, err := httpGet(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("GET %s: the exposition does not parse: %v\n%s", target, err, body)
	}
	var inbound float64
	for _, mt := range families["envoystandin_http_requests_total"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "listener" && l.GetValue() == bootstrap.InboundListenerName {
				inbound = mt.GetCounter().GetValue()
			}
		}
	}
	if inbound == 0 {
		t.Errorf("GET %s: no inbound request counted:\n%s", target, body)
	}
	if !regexp.MustCompile(`(?m)^# TYPE envoystandin_http_requests_total counter$`).MatchString(body) {
		t.Errorf("GET %s: no TYPE line for the request counter:\n%s", target, body)
	}
	t.Logf("bookstore's sidecar at %s: %d metric families, %v inbound requests", target, len(families), inbound)
}

// accessLog reads bookreader's envoy log (its pod annotated openservicemesh.io/access-log:
// "true") and finds the access log line of its request: the format of
// bootstrap.AccessLogHTTPFormat, no response flag, the trace id of the span it exported.
func (m *mesh) accessLog(ctx context.Context, t *testing.T, pod, traceID string) {
	out, errOut, err := m.c.KubectlContext(ctx, "logs", "--namespace="+buyerNS, pod, "--container="+inject.EnvoyContainerName)
	if err != nil {
		t.Fatalf("kubectl logs %s/%s -c envoy: %v: %s", buyerNS, pod, err, errOut)
	}
	want := regexp.MustCompile(`(?m)^\[[0-9T:.Z-]+\] outbound "GET / HTTP/1\.1" 200 - \d+ \d+ \d+ms "bookstore\.bookstore\.svc\.cluster\.local:` +
		portApp + `" \S+ -> \S+:` + portApp + ` trace=` + regexp.QuoteMeta(traceID) + ` req=\S+$`)
	line := want.FindString(out)
	if line == "" {
		t.Fatalf("bookreader's envoy log has no access log line of its GET with trace=%s (want %s):\n%s", traceID, want, out)
	}
	t.Logf("access log: %s", line)
}
