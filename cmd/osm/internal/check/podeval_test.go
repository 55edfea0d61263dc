package check

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func TestEvaluatePod(t *testing.T) {
	yes, no := true, false
	port := int32(9411)
	mesh := &v1alpha2.TracingSpec{Enable: &yes, Address: "jaeger.osm-system.svc.cluster.local", Port: &port, Endpoint: "/api/v2/spans"}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "bookbuyer-7d9c-abcde", Namespace: "bookbuyer",
		Labels: map[string]string{"app": "bookbuyer"},
	}}
	current := func(t *testing.T, m *v1alpha2.TracingSpec, p *corev1.Pod, nsAnn map[string]string) []byte {
		t.Helper()
		s, err := bootstrap.Resolve(bootstrap.Input{Defaults: bootstrap.Defaults("osm-system"), Mesh: observability(m),
			NamespaceName: p.Namespace, NamespaceAnnotations: nsAnn, PodAnnotations: p.Annotations,
			Owner: bootstrap.OwnerOf(p), PodLabels: p.Labels, PodName: p.Name})
		if err != nil {
			t.Fatal(err)
		}
		return generated(t, s.Tracing, s.ServiceName).YAML
	}
	otlpPort := int32(4317)
	otlp := &v1alpha2.TracingSpec{Enable: &yes, Protocol: bootstrap.ProtocolOpenTelemetry,
		Address: "jaeger.osm-system.svc.cluster.local", Port: &otlpPort}
	otlpSampled := *otlp
	otlpSampled.Sampling = new(float64)
	oldMesh := *mesh
	oldMesh.Address = "zipkin.old.svc.cluster.local"
	sampled := *mesh
	sampled.Sampling = new(float64)
	off := *mesh
	off.Enable = &no
	optedOut := pod.DeepCopy()
	optedOut.Annotations = map[string]string{bootstrap.AnnotationEnable: "false"}
	// A pod an injector of another version admitted with the settings it would get now: its
	// bootstrap renders them differently (here: a trailing comment), its label says so.
	labelled := func(m *v1alpha2.TracingSpec) *corev1.Pod {
		p := pod.DeepCopy()
		s, err := bootstrap.Resolve(bootstrap.Input{Defaults: bootstrap.Defaults("osm-system"), Mesh: observability(m),
			NamespaceName: p.Namespace, Owner: bootstrap.OwnerOf(p), PodLabels: p.Labels, PodName: p.Name})
		if err != nil {
			t.Fatal(err)
		}
		p.Labels[bootstrap.SettingsHashKey] = bootstrap.SettingsHash(s)
		return p
	}
	// An OpenTelemetry bootstrap as a version that set no service_name would have rendered it.
	renderedWithoutServiceName := func(t *testing.T, m *v1alpha2.TracingSpec, p *corev1.Pod) []byte {
		t.Helper()
		y := current(t, m, p, nil)
		out := strings.ReplaceAll(string(y), "service_name: bookbuyer", "service_name: \"\"")
		if out == string(y) {
			t.Fatal("no service_name in the OpenTelemetry bootstrap")
		}
		return []byte(out)
	}
	rerendered := append(current(t, mesh, pod, nil), "# rendered by another version\n"...)
	badAnn := pod.DeepCopy()
	badAnn.Annotations = map[string]string{bootstrap.AnnotationPort: "99999"}

	tests := map[string]struct {
		in     PodInput
		status Status
		stale  bool
		msg    string
	}{
		"a current bootstrap with tracing": {
			in:     PodInput{Pod: pod, Mesh: observability(mesh), BootstrapYAML: current(t, mesh, pod, nil)},
			status: Pass, msg: "envoy-tracing-cluster -> jaeger.osm-system.svc.cluster.local:9411, endpoint /api/v2/spans, service name bookbuyer",
		},
		"a current OpenTelemetry bootstrap": {
			in:     PodInput{Pod: pod, Mesh: observability(otlp), BootstrapYAML: current(t, otlp, pod, nil)},
			status: Pass, msg: "envoy-tracing-cluster -> jaeger.osm-system.svc.cluster.local:4317, OTLP/gRPC, service name bookbuyer",
		},
		"a current OpenTelemetry bootstrap shows its resource attributes": {
			in:     PodInput{Pod: pod, Mesh: observability(otlp), BootstrapYAML: current(t, otlp, pod, nil)},
			status: Pass, msg: "resource attributes from env:OTEL_RESOURCE_ATTRIBUTES",
		},
		"a Zipkin bootstrap where the MeshConfig now says opentelemetry": {
			in:     PodInput{Pod: pod, Mesh: observability(otlp), BootstrapYAML: current(t, mesh, pod, nil)},
			status: Fail, stale: true, msg: "is Zipkin (protocol zipkin), not OpenTelemetry (protocol opentelemetry, OTLP/gRPC)",
		},
		"an OpenTelemetry bootstrap stale in its sampling": {
			in:     PodInput{Pod: pod, Mesh: observability(&otlpSampled), BootstrapYAML: current(t, otlp, pod, nil)},
			status: Fail, stale: true, msg: "samples 100%, not 0% (bootstrap hash",
		},
		"a bootstrap made for an older address": {
			in:     PodInput{Pod: pod, Mesh: observability(mesh), BootstrapYAML: current(t, &oldMesh, pod, nil)},
			status: Fail, stale: true, msg: "points at zipkin.old.svc.cluster.local:9411, not jaeger.osm-system.svc.cluster.local:9411",
		},
		"a bootstrap made before tracing was turned on": {
			in:     PodInput{Pod: pod, Mesh: observability(mesh), BootstrapYAML: current(t, &off, pod, nil)},
			status: Fail, stale: true, msg: "no envoy-tracing-cluster",
		},
		"a bootstrap that differs only in its sampling, on a pod without the settings label": {
			in:     PodInput{Pod: pod, Mesh: observability(&sampled), BootstrapYAML: current(t, mesh, pod, nil)},
			status: Fail, stale: true, msg: "label: an older osm-injector admitted it, so the re-bootstrap controller counts it as outdated",
		},
		"a bootstrap of the same settings rendered by another injector version is outdated": {
			in:     PodInput{Pod: labelled(mesh), Mesh: observability(mesh), BootstrapYAML: rerendered},
			status: Warn, stale: true, msg: "outdated bootstrap",
		},
		"a labelled pod whose tracer another injector version rendered differently is outdated, and says how": {
			in:     PodInput{Pod: labelled(otlp), Mesh: observability(otlp), BootstrapYAML: renderedWithoutServiceName(t, otlp, pod)},
			status: Warn, stale: true, msg: "(which differs: the tracer of listeners outbound and inbound reports service name none, not bookbuyer)",
		},
		"a labelled pod whose settings changed is stale, not outdated": {
			in:     PodInput{Pod: labelled(mesh), Mesh: observability(&sampled), BootstrapYAML: current(t, mesh, pod, nil)},
			status: Fail, stale: true, msg: "stale bootstrap",
		},
		// inject.PodStanding, the controller's rule: no settings label and another bootstrap is
		// outdated; with tracing facts as expected, a warning.
		"a pod without the settings label, rendered differently, is outdated": {
			in:     PodInput{Pod: pod, Mesh: observability(mesh), BootstrapYAML: rerendered},
			status: Warn, stale: true, msg: "outdated bootstrap: it runs hash",
		},
		"a namespace annotation changes the expected address": {
			in: PodInput{Pod: pod, Mesh: observability(mesh), BootstrapYAML: current(t, mesh, pod, nil),
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationAddress: "otel.tracing.svc.cluster.local"}},
			status: Fail, stale: true, msg: "not otel.tracing.svc.cluster.local:9411",
		},
		"a pod that opted out of tracing": {
			in:     PodInput{Pod: optedOut, Mesh: observability(mesh), BootstrapYAML: current(t, mesh, optedOut, nil)},
			status: Warn, msg: "turned off for this pod",
		},
		"tracing off everywhere": {
			in:     PodInput{Pod: pod, Mesh: observability(&off), BootstrapYAML: current(t, &off, pod, nil)},
			status: Pass, msg: "tracing disabled",
		},
		"a pod whose annotation is invalid now": {
			in:     PodInput{Pod: badAnn, Mesh: observability(mesh), BootstrapYAML: current(t, mesh, pod, nil)},
			status: Fail, msg: "invalid now",
		},
		"a ConfigMap that is gone": {
			in:     PodInput{Pod: pod, Mesh: observability(mesh), BootstrapErr: errors.New("ConfigMap bookbuyer/envoy-bootstrap-x no longer exists")},
			status: Fail, msg: "no longer exists",
		},
		"a bootstrap that does not parse": {
			in:     PodInput{Pod: pod, Mesh: observability(mesh), BootstrapYAML: []byte("admin: [")},
			status: Fail, msg: "does not parse",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.in.ControlPlane = "osm-system"
			v := EvaluatePod(tc.in)
			if v.Status != tc.status || v.Stale != tc.stale || !strings.Contains(v.Message, tc.msg) {
				t.Errorf("EvaluatePod = %v (stale %t) %q; want %v (stale %t) with %q", v.Status, v.Stale, v.Message, tc.status, tc.stale, tc.msg)
			}
		})
	}
}

// observability wraps a tracing spec as the MeshConfig's spec.observability (nil stays nil).
func observability(t *v1alpha2.TracingSpec) *v1alpha2.ObservabilitySpec {
	if t == nil {
		return nil
	}
	return &v1alpha2.ObservabilitySpec{Tracing: *t}
}
