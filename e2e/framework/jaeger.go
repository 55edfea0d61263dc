package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// jaegerStartTimeout bounds StartJaeger.
const jaegerStartTimeout = time.Minute

// Jaeger is a running Jaeger all-in-one (memory storage) on loopback.
type Jaeger struct {
	// ZipkinAddr is the Zipkin receiver's host:port (what Envoy's Zipkin tracer points at).
	ZipkinAddr string
	// ZipkinURL is the Zipkin receiver's base URL; spans go to ZipkinURL + "/api/v2/spans".
	ZipkinURL string
	// QueryURL is the base URL of the query API (Jaeger's 16686): /api/services,
	// /api/traces?service=NAME.
	QueryURL string
	// OTLPGRPCAddr and OTLPHTTPURL are the OTLP receivers.
	OTLPGRPCAddr string
	OTLPHTTPURL  string
	// Dir holds the configuration and the log.
	Dir string
}

// jaegerConfig is the OpenTelemetry-collector configuration of the Jaeger v2 binary: the
// all-in-one's pipeline with every endpoint on a given loopback port and no metrics port.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp, zipkin]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    # On by default: Jaeger would trace itself to an OTLP collector on localhost:4317.
    enable_tracing: false
    http:
      endpoint: %[1]s
    grpc:
      endpoint: %[2]s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[3]s
      http:
        endpoint: %[4]s
  zipkin:
    endpoint: %[5]s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// StartJaeger runs the cached Jaeger until the test ends and waits until its query API and
// Zipkin receiver answer.
func StartJaeger(t testing.TB) *Jaeger {
	t.Helper()
	bins := findBinaries(t)
	requireFiles(t, "jaeger", bins.Jaeger)
	r := newRunner(t, "osm-jaeger-")
	ports, err := freePorts(5)
	if err != nil {
		t.Fatalf("framework: %v", err)
	}
	j := &Jaeger{
		ZipkinAddr:   hostPort(ports[4]),
		QueryURL:     "http://" + hostPort(ports[0]),
		OTLPGRPCAddr: hostPort(ports[2]),
		OTLPHTTPURL:  "http://" + hostPort(ports[3]),
		Dir:          r.dir,
	}
	j.ZipkinURL = "http://" + j.ZipkinAddr
	config := fmt.Sprintf(jaegerConfig, hostPort(ports[0]), hostPort(ports[1]), j.OTLPGRPCAddr,
		hostPort(ports[3]), j.ZipkinAddr)
	configPath := filepath.Join(r.dir, "jaeger.yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatalf("framework: when writing %s: %v", configPath, err)
	}
	began := time.Now()
	if _, err := r.start("jaeger", bins.Jaeger, []string{"--config=" + configPath}); err != nil {
		t.Fatalf("framework: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), jaegerStartTimeout)
	defer cancel()
	if err := r.waitFor(ctx, "Jaeger's query API", func(ctx context.Context) (bool, error) {
		_, err := j.Services(ctx)
		return err == nil, err
	}); err != nil {
		t.Fatalf("framework: %v", err)
	}
	if err := waitListening(ctx, r, "Jaeger's Zipkin receiver", j.ZipkinAddr); err != nil {
		t.Fatalf("framework: %v", err)
	}
	t.Logf("framework: jaeger ready in %s", time.Since(began).Round(time.Millisecond))
	return j
}

// Services lists the service names Jaeger has received spans of.
func (j *Jaeger) Services(ctx context.Context) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.QueryURL+"/api/services", nil)
	if err != nil {
		return nil, fmt.Errorf("when making the services request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("when listing Jaeger services: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("when reading Jaeger services: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("when listing Jaeger services: %s: %s", resp.Status, body)
	}
	var out struct {
		Data []string `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("when decoding Jaeger services %q: %w", body, err)
	}
	return out.Data, nil
}

// WaitForService polls until Jaeger lists the service, or the context ends.
func (j *Jaeger) WaitForService(ctx context.Context, service string) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		services, err := j.Services(ctx)
		if err == nil && slices.Contains(services, service) {
			return true, nil
		}
		last = err
		if last == nil {
			last = fmt.Errorf("services so far: %v", services)
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("when waiting for service %q in Jaeger: %w (%w)", service, err, last)
	}
	return nil
}
