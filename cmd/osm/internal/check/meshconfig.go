package check

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

const (
	stepMeshConfig = 1 + iota
	stepAddress
	stepPods
	stepJaegerObjects
	stepJaegerPods
	stepWebhook
	stepSidecars
	stepTestSpan
)

// checkMeshConfig is the guide's step 1: the MeshConfig exists and has tracing enabled.
func (k *checker) checkMeshConfig(ctx context.Context) []Result {
	r := Result{Step: stepMeshConfig, Title: "tracing enabled"}
	mc, err := kube.GetMeshConfig(ctx, k.c.Dynamic, k.o.ControlPlane, k.o.MeshConfigName)
	switch {
	case apierrors.IsNotFound(err):
		r.Status, r.Message = Fail, fmt.Sprintf("MeshConfig %s not found", k.meshConfigRef())
		r.Hint = "is the mesh installed in this namespace? Install it with 'osm install', or name its namespace with --osm-namespace"
		return []Result{r}
	case err != nil:
		r.Status, r.Message = Fail, fmt.Sprintf("cannot read MeshConfig %s: %v", k.meshConfigRef(), err)
		return []Result{r}
	}
	k.mc = mc
	enable := mc.Spec.Observability.Tracing.Enable
	if enable == nil || !*enable {
		r.Status = Fail
		r.Message = fmt.Sprintf("MeshConfig %s has tracing disabled (spec.observability.tracing.enable is %s)",
			k.meshConfigRef(), boolText(enable))
		r.Hint = "turn it on: " + k.patchHint(`{"enable":true}`)
		return []Result{r}
	}
	r.Status, r.Message = Pass, fmt.Sprintf("MeshConfig %s has spec.observability.tracing.enable=true", k.meshConfigRef())
	return []Result{r}
}

func boolText(b *bool) string {
	if b == nil {
		return "unset, so false"
	}
	return fmt.Sprint(*b)
}

// checkAddress is the guide's step 2: address, port and endpoint are valid, and an in-cluster
// address names a Service that exists and has the port.
func (k *checker) checkAddress(ctx context.Context) []Result {
	r := Result{Step: stepAddress, Title: "collector address"}
	if k.mc == nil {
		return []Result{skipped(r, "needs the MeshConfig (step 1)")}
	}
	t, err := bootstrap.MeshTracing(bootstrap.Defaults(k.o.ControlPlane), &k.mc.Spec.Observability)
	if err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("MeshConfig %s has invalid tracing settings: %v", k.meshConfigRef(), err)
		r.Hint = "correct them: kubectl edit meshconfig " + k.o.MeshConfigName + " -n " + k.o.ControlPlane
		return []Result{r}
	}
	k.tracing, k.tracingOK = t, true
	target := CollectorURL(t)
	name, ns, ok := ServiceOf(t.Address)
	if !ok {
		if problem, fix, bad := ProtocolMismatch(t.Protocol, t.Port, nil); bad {
			r.Status, r.Message, r.Hint = Fail, fmt.Sprintf("spans go to %s: %s", target, problem), k.mismatchHint(fix)
			return []Result{r}
		}
		r.Status = Pass
		r.Message = fmt.Sprintf("spans go to %s (not a Service of this cluster, so not checked further)", target)
		return []Result{r}
	}
	svc, err := k.c.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		r.Status = Fail
		r.Message = fmt.Sprintf("spans go to %s, but Service %s/%s does not exist, so Envoy cannot resolve %s", target, ns, name, t.Address)
		r.Hint = "deploy Jaeger with 'osm install --set=osm.deployJaeger=true,osm.tracing.enable=true' (or the guide's Jaeger), " +
			"or point the MeshConfig at your collector: " + k.patchHint(`{"address":"<collector>","port":9411,"endpoint":"/api/v2/spans"}`)
		return []Result{r}
	}
	if err != nil {
		r.Status, r.Message = Fail, fmt.Sprintf("cannot read Service %s/%s: %v", ns, name, err)
		return []Result{r}
	}
	if !ServiceHasPort(svc, t.Port) {
		r.Status = Fail
		r.Message = fmt.Sprintf("spans go to %s, but Service %s/%s has no port %d (it has %s)", target, ns, name, t.Port, servicePorts(svc))
		r.Hint = fmt.Sprintf("set the MeshConfig's port to the collector's %s port: %s",
			portWire(wants(t.Protocol)), k.patchHint(fmt.Sprintf(`{"port":%d}`, bootstrap.DefaultPort(t.Protocol))))
		return []Result{r}
	}
	if problem, fix, bad := ProtocolMismatch(t.Protocol, t.Port, svc); bad {
		r.Status = Fail
		r.Message = fmt.Sprintf("spans go to %s, Service %s/%s: %s", target, ns, name, problem)
		r.Hint = k.mismatchHint(fix)
		return []Result{r}
	}
	k.collector = svc
	r.Status, r.Message = Pass, fmt.Sprintf("spans go to %s: Service %s/%s, port %d", target, ns, name, t.Port)
	return []Result{r}
}

func skipped(r Result, why string) Result {
	r.Status, r.Message = Skip, why
	return r
}

// mismatchHint says how to point the MeshConfig at the port that speaks its protocol, or
// how to switch the protocol instead.
func (k *checker) mismatchHint(port uint32) string {
	other := bootstrap.ProtocolZipkin
	if k.tracing.Protocol != bootstrap.ProtocolOpenTelemetry {
		other = bootstrap.ProtocolOpenTelemetry
	}
	return fmt.Sprintf("send %s to the port that speaks it: %s (or switch protocols: %s)", k.tracing.Protocol,
		k.patchHint(fmt.Sprintf(`{"port":%d}`, port)),
		k.patchHint(fmt.Sprintf(`{"protocol":%q,"port":%d}`, other, bootstrap.DefaultPort(other))))
}

// CollectorURL is where Envoy sends spans: an HTTP URL with Zipkin, grpc://host:port with
// OpenTelemetry (OTLP/gRPC has no path to choose).
func CollectorURL(t bootstrap.Tracing) string {
	host := t.Address
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if t.Protocol == bootstrap.ProtocolOpenTelemetry {
		return fmt.Sprintf("grpc://%s:%d (OTLP)", host, t.Port)
	}
	return fmt.Sprintf("http://%s:%d%s", host, t.Port, t.Endpoint)
}

// ServiceOf returns the Service an address names when it is a cluster Service name:
// NAME.NAMESPACE.svc or NAME.NAMESPACE.svc.<cluster domain>.
func ServiceOf(address string) (name, namespace string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(address, "."), ".")
	if len(parts) < 3 || parts[2] != "svc" || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// ServiceHasPort reports whether svc serves port.
func ServiceHasPort(svc *corev1.Service, port uint32) bool {
	for _, p := range svc.Spec.Ports {
		if int64(p.Port) == int64(port) {
			return true
		}
	}
	return false
}

func servicePorts(svc *corev1.Service) string {
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, fmt.Sprint(p.Port))
	}
	if len(ports) == 0 {
		return "none"
	}
	return strings.Join(ports, ", ")
}
