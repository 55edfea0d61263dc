package bootstrap_test

import (
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// BenchmarkResolve resolves the guide's bookstore-v1 pod: a MeshConfig, a namespace
// annotation, two pod annotations, a Deployment owner.
func BenchmarkResolve(b *testing.B) {
	in := bootstrap.Input{
		Defaults:             bootstrap.Defaults("osm-system"),
		Mesh:                 &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Enable: resolvePtr(true), Address: "jaeger.osm-system.svc.cluster.local", Port: resolvePtr[int32](9411), Endpoint: "/api/v2/spans"}},
		NamespaceName:        "bookstore",
		NamespaceAnnotations: map[string]string{bootstrap.AnnotationSampling: "50"},
		PodAnnotations: map[string]string{
			bootstrap.AnnotationAddress:         "10.0.0.7",
			bootstrap.AnnotationPort:            "9412",
			"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z",
		},
		Owner:     bootstrap.Workload{Kind: "Deployment", Name: "bookstore-v1"},
		PodLabels: map[string]string{"app": "bookstore", "version": "v1", "pod-template-hash": "5d7f8c9b4"},
		PodName:   "bookstore-v1-5d7f8c9b4-",
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bootstrap.Resolve(in); err != nil {
			b.Fatal(err)
		}
	}
}
