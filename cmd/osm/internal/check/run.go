package check

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

// Options say what osm tracing check looks at.
type Options struct {
	// ControlPlane is the control-plane namespace (--osm-namespace).
	ControlPlane string
	// MeshConfigName is the MeshConfig the injector follows.
	MeshConfigName string
	// Namespace limits the pod checks to one namespace ("" for every namespace in the mesh).
	Namespace string
	// Pod limits the bootstrap check to one pod of Namespace.
	Pod string
	// SpanTimeout bounds how long the test span is looked for in Jaeger.
	SpanTimeout time.Duration
}

// checker runs the checks in order; later checks use what earlier ones found.
type checker struct {
	c *kube.Clients
	o Options

	mc         *v1alpha2.MeshConfig
	tracing    bootstrap.Tracing
	tracingOK  bool
	collector  *corev1.Service
	jaeger     *corev1.Pod
	jaegerSeen bool
}

// Run runs every check, printing each result as it comes, then the summary. It returns the
// summary; the caller fails when Summary.Failed > 0.
func Run(ctx context.Context, c *kube.Clients, o Options, out io.Writer) Summary {
	if o.MeshConfigName == "" {
		o.MeshConfigName = bootstrap.DefaultMeshConfigName
	}
	if o.SpanTimeout <= 0 {
		o.SpanTimeout = 15 * time.Second
	}
	k := &checker{c: c, o: o}
	p := &Printer{Out: out}
	steps := []func(context.Context) []Result{
		k.checkMeshConfig, k.checkAddress, k.checkPodBootstraps, k.checkJaegerObjects,
		k.checkJaegerPods, k.checkWebhook, k.checkSidecars, k.checkTestSpan,
	}
	for _, step := range steps {
		for _, r := range step(ctx) {
			p.Print(r)
		}
	}
	fmt.Fprintln(out, p.Summary)
	return p.Summary
}

func (k *checker) meshConfigRef() string {
	return k.o.ControlPlane + "/" + k.o.MeshConfigName
}

// patchHint is the guide's command to change the MeshConfig's tracing settings.
func (k *checker) patchHint(tracing string) string {
	return fmt.Sprintf(`kubectl patch meshconfig %s -n %s --type=merge -p '{"spec":{"observability":{"tracing":%s}}}'`,
		k.o.MeshConfigName, k.o.ControlPlane, tracing)
}
