package check

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

// SpanServiceName is the service name of the test span.
const SpanServiceName = "osm-tracing-check"

// JaegerQueryPort is Jaeger's query API (and UI) port.
const JaegerQueryPort = 16686

// checkTestSpan sends a test span to the collector in the protocol in use (a Zipkin span over
// HTTP, or an OTLP span over gRPC) through a port-forward to the Jaeger pod, and reads it back
// through Jaeger's query API.
func (k *checker) checkTestSpan(ctx context.Context) []Result {
	r := Result{Step: stepTestSpan, Title: "test span"}
	if !k.tracingOK || k.collector == nil {
		return []Result{skipped(r, "needs the collector's Service (step 2)")}
	}
	if k.jaeger == nil || !selects(k.collector, k.jaeger) {
		r = skipped(r, fmt.Sprintf("the collector %s is not the in-cluster Jaeger (no ready %s pod behind Service %s/%s)",
			k.tracing.Address, JaegerSelector, k.collector.Namespace, k.collector.Name))
		r.Hint = "send a test span to your collector yourself, e.g. with curl -X POST -H 'Content-Type: application/json' " + CollectorURL(k.tracing)
		if k.tracing.Protocol == bootstrap.ProtocolOpenTelemetry {
			r.Hint = "send a test span to your collector yourself, e.g. with telemetrygen traces --otlp-insecure --otlp-endpoint " +
				fmt.Sprintf("%s:%d", k.tracing.Address, k.tracing.Port)
		}
		return []Result{r}
	}
	pod := k.jaeger
	port, err := TargetPort(k.collector, pod, k.tracing.Port)
	if err != nil {
		r.Status, r.Message = Fail, err.Error()
		return []Result{r}
	}
	where := fmt.Sprintf("pod %s/%s", pod.Namespace, pod.Name)
	via := fmt.Sprintf("port %d, path %s", port, k.tracing.Endpoint)
	var traceID string
	if k.tracing.Protocol == bootstrap.ProtocolOpenTelemetry {
		via = fmt.Sprintf("port %d, OTLP/gRPC", port)
		traceID, err = k.exportSpan(ctx, pod, port)
	} else {
		traceID, err = k.postZipkinSpan(ctx, pod, port)
	}
	if err != nil {
		r.Status = Fail
		r.Message = fmt.Sprintf("sending a span to %s (%s) failed: %v", where, via, err)
		r.Hint = "check the MeshConfig's protocol and port and the collector's logs: kubectl logs -n " + pod.Namespace + " " + pod.Name
		return []Result{r}
	}
	if err := k.findTrace(ctx, pod, QueryPort(pod), traceID); err != nil {
		r.Status = Fail
		r.Message = fmt.Sprintf("Jaeger accepted span %s on port %d but its query API did not return it: %v", traceID, port, err)
		r.Hint = "kubectl logs -n " + pod.Namespace + " " + pod.Name
		return []Result{r}
	}
	r.Status = Pass
	r.Message = fmt.Sprintf("a span of service %s (trace %s) sent to %s (%s) was read back through Jaeger's query API (port %d)",
		SpanServiceName, traceID, where, via, QueryPort(pod))
	return []Result{r}
}

// postZipkinSpan posts a Zipkin test span to the pod's port and returns its trace id.
func (k *checker) postZipkinSpan(ctx context.Context, pod *corev1.Pod, port int32) (string, error) {
	traceID, span, err := NewTestSpan(time.Now())
	if err != nil {
		return "", fmt.Errorf("cannot make a test span: %w", err)
	}
	return traceID, k.postSpan(ctx, pod, port, span)
}

// exportSpan exports an OTLP test span over gRPC to the pod's port, through a port-forward,
// and returns its trace id.
func (k *checker) exportSpan(ctx context.Context, pod *corev1.Pod, port int32) (string, error) {
	traceID, req, err := NewOTLPTestSpan(time.Now())
	if err != nil {
		return "", fmt.Errorf("cannot make a test span: %w", err)
	}
	fw, err := kube.ForwardPort(ctx, k.c.Config, k.c.Kube, pod.Namespace, pod.Name, int(port))
	if err != nil {
		return "", err
	}
	defer fw.Close()
	return traceID, withProblems(ExportOTLP(ctx, fw.Addr, req), fw)
}

func (k *checker) postSpan(ctx context.Context, pod *corev1.Pod, port int32, span []byte) error {
	fw, err := kube.ForwardPort(ctx, k.c.Config, k.c.Kube, pod.Namespace, pod.Name, int(port))
	if err != nil {
		return err
	}
	defer fw.Close()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, "http://"+fw.Addr+k.tracing.Endpoint, bytes.NewReader(span))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return withProblems(err, fw)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the collector answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// findTrace polls Jaeger's GET /api/traces/<id> until the trace shows up with the test span's
// service, or SpanTimeout passes.
func (k *checker) findTrace(ctx context.Context, pod *corev1.Pod, port int32, traceID string) error {
	fw, err := kube.ForwardPort(ctx, k.c.Config, k.c.Kube, pod.Namespace, pod.Name, int(port))
	if err != nil {
		return err
	}
	defer fw.Close()
	var last error
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, k.o.SpanTimeout, true, func(ctx context.Context) (bool, error) {
		found, err := queryTrace(ctx, "http://"+fw.Addr+"/api/traces/"+traceID, traceID)
		last = withProblems(err, fw)
		return found, nil
	})
	if err != nil && ctx.Err() == nil { // the timeout, not the caller's context
		return fmt.Errorf("after %s: %w", k.o.SpanTimeout, last)
	}
	return err
}

func queryTrace(ctx context.Context, url, traceID string) (bool, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET /api/traces/%s answered %s", traceID, resp.Status)
	}
	return TraceHasService(body, traceID, SpanServiceName)
}

func withProblems(err error, fw *kube.Forward) error {
	if err == nil {
		return nil
	}
	if p := fw.Problems(); p != "" {
		return fmt.Errorf("%w (port-forward: %s)", err, p)
	}
	return err
}

// NewTestSpan makes a Zipkin v2 JSON span of service SpanServiceName with a fresh 128-bit
// trace id, and returns the id and the request body.
func NewTestSpan(now time.Time) (traceID string, body []byte, err error) {
	id := make([]byte, 24)
	if _, err := rand.Read(id); err != nil {
		return "", nil, err
	}
	traceID = hex.EncodeToString(id[:16])
	span := []map[string]any{{
		"traceId":       traceID,
		"id":            hex.EncodeToString(id[16:]),
		"name":          "osm tracing check",
		"kind":          "CLIENT",
		"timestamp":     now.UnixMicro(),
		"duration":      1000,
		"localEndpoint": map[string]any{"serviceName": SpanServiceName},
		"tags":          map[string]string{"osm.check": "true"},
	}}
	body, err = json.Marshal(span)
	return traceID, body, err
}

// TraceHasService reports whether a Jaeger query API answer (GET /api/traces/<id>) holds the
// trace with a span of service.
func TraceHasService(body []byte, traceID, service string) (bool, error) {
	var answer struct {
		Data []struct {
			TraceID   string `json:"traceID"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return false, fmt.Errorf("the answer is not the JSON of Jaeger's query API: %w", err)
	}
	for _, t := range answer.Data {
		if !strings.EqualFold(strings.TrimLeft(t.TraceID, "0"), strings.TrimLeft(traceID, "0")) {
			continue
		}
		for _, p := range t.Processes {
			if p.ServiceName == service {
				return true, nil
			}
		}
	}
	return false, fmt.Errorf("the answer has no trace %s with service %s", traceID, service)
}

// selects reports whether svc's selector picks pod.
func selects(svc *corev1.Service, pod *corev1.Pod) bool {
	if len(svc.Spec.Selector) == 0 || svc.Namespace != pod.Namespace {
		return false
	}
	return labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels))
}

// TargetPort is the pod port behind svc's port.
func TargetPort(svc *corev1.Service, pod *corev1.Pod, port uint32) (int32, error) {
	for _, p := range svc.Spec.Ports {
		if int64(p.Port) != int64(port) {
			continue
		}
		switch {
		case p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal != 0:
			return p.TargetPort.IntVal, nil
		case p.TargetPort.Type == intstr.String && p.TargetPort.StrVal != "":
			if cp, ok := containerPort(pod, p.TargetPort.StrVal); ok {
				return cp, nil
			}
			return 0, fmt.Errorf("port %d of the Service %s/%s targets port %q, which pod %s does not declare",
				port, svc.Namespace, svc.Name, p.TargetPort.StrVal, pod.Name)
		}
		return p.Port, nil
	}
	return 0, fmt.Errorf("the Service %s/%s has no port %d", svc.Namespace, svc.Name, port)
}

// QueryPort is the pod's Jaeger query port: the container port named ui or query, else 16686.
func QueryPort(pod *corev1.Pod) int32 {
	for _, name := range []string{"ui", "query", "http-query"} {
		if p, ok := containerPort(pod, name); ok {
			return p
		}
	}
	return JaegerQueryPort
}

func containerPort(pod *corev1.Pod, name string) (int32, bool) {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}
