package proxy

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Describer says in a line where a bootstrap's spans go and, in another, what else it lets
// an operator see (span names, access log, Prometheus port): the tracing check's reading of
// a bootstrap (check.Facts), passed in so that both commands read a bootstrap one way.
type Describer interface {
	Describe() string
	Observability() string
}

// Summary is what an operator asks of a pod's sidecar, one fact a line: its bootstrap
// ConfigMap and hash, where spans go, how spans are named, the access log and the
// Prometheus endpoint (from the bootstrap), and the envoy container's resources (from the
// pod, which the bootstrap does not hold).
func Summary(b *PodBootstrap, facts Describer) string {
	var out strings.Builder
	line := func(k, v string) { fmt.Fprintf(&out, "%-11s %s\n", k+":", v) }
	line("pod", b.Pod.Namespace+"/"+b.Pod.Name)
	line("bootstrap", fmt.Sprintf("ConfigMap %s (hash %s)", b.ConfigMap.Name, b.Pod.Labels[bootstrap.BootstrapHashKey]))
	line("tracing", facts.Describe())
	line("observed", facts.Observability())
	line("resources", resourcesText(inject.Sidecar(&b.Pod.Spec)))
	return out.String()
}

// resourcesText writes a container's requests and limits as kubectl's describe does.
func resourcesText(c *corev1.Container) string {
	if c == nil {
		return "no envoy container"
	}
	list := func(rl corev1.ResourceList) string {
		var parts []string
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := rl[name]; ok {
				parts = append(parts, string(name)+"="+q.String())
			}
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprintf("requests %s; limits %s", list(c.Resources.Requests), list(c.Resources.Limits))
}
