package check

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestNewTestSpan(t *testing.T) {
	now := time.Unix(1700000000, 0)
	id, body, err := NewTestSpan(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 32 {
		t.Errorf("trace id %q is not 128 bits of hex", id)
	}
	var spans []map[string]any
	if err := json.Unmarshal(body, &spans); err != nil || len(spans) != 1 {
		t.Fatalf("body %s: %v", body, err)
	}
	s := spans[0]
	if s["traceId"] != id || len(s["id"].(string)) != 16 || s["timestamp"].(float64) != float64(now.UnixMicro()) {
		t.Errorf("span = %v", s)
	}
	if s["localEndpoint"].(map[string]any)["serviceName"] != SpanServiceName {
		t.Errorf("service name = %v", s["localEndpoint"])
	}
	other, _, _ := NewTestSpan(now)
	if other == id {
		t.Error("two test spans share a trace id")
	}
}

func TestTraceHasService(t *testing.T) {
	const id = "00f067aa0ba902b7a1b2c3d4e5f60718"
	tests := map[string]struct {
		body  string
		found bool
		err   string
	}{
		"the trace with the service": {
			body:  `{"data":[{"traceID":"00f067aa0ba902b7a1b2c3d4e5f60718","processes":{"p1":{"serviceName":"osm-tracing-check"}}}]}`,
			found: true,
		},
		"Jaeger drops leading zeros": {
			body:  `{"data":[{"traceID":"f067aa0ba902b7a1b2c3d4e5f60718","processes":{"p1":{"serviceName":"osm-tracing-check"}}}]}`,
			found: true,
		},
		"another service":   {body: `{"data":[{"traceID":"` + id + `","processes":{"p1":{"serviceName":"x"}}}]}`, err: "no trace"},
		"no data":           {body: `{"data":[],"errors":[{"code":404,"msg":"trace not found"}]}`, err: "no trace"},
		"not the query API": {body: `<html>`, err: "not the JSON of Jaeger's query API"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			found, err := TraceHasService([]byte(tc.body), id, SpanServiceName)
			if found != tc.found || (err != nil) != (tc.err != "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("TraceHasService = %t, %v; want %t, error containing %q", found, err, tc.found, tc.err)
			}
		})
	}
}

func TestTargetAndQueryPorts(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "jaeger-1"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Ports: []corev1.ContainerPort{{Name: "zipkin", ContainerPort: 19411}, {Name: "ui", ContainerPort: 26686}},
	}}}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "jaeger", Namespace: "osm-system"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Port: 9411, TargetPort: intstr.FromString("zipkin")},
		{Port: 9412, TargetPort: intstr.FromInt32(9999)},
		{Port: 9413},
		{Port: 9414, TargetPort: intstr.FromString("missing")},
	}}}
	tests := map[string]struct {
		port uint32
		want int32
		err  string
	}{
		"a named target port":      {port: 9411, want: 19411},
		"a numbered target port":   {port: 9412, want: 9999},
		"no target port":           {port: 9413, want: 9413},
		"an undeclared name":       {port: 9414, err: `targets port "missing"`},
		"a port the Service lacks": {port: 1, err: "has no port 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := TargetPort(svc, pod, tc.port)
			if got != tc.want || (err != nil) != (tc.err != "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("TargetPort(%d) = %d, %v; want %d, error containing %q", tc.port, got, err, tc.want, tc.err)
			}
		})
	}
	if got := QueryPort(pod); got != 26686 {
		t.Errorf("QueryPort = %d, want the port named ui", got)
	}
	if got := QueryPort(&corev1.Pod{}); got != JaegerQueryPort {
		t.Errorf("QueryPort of a pod without named ports = %d", got)
	}
}
