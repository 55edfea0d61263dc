package inject_test

import (
	"testing"

	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// BenchmarkMutate is the webhook's work per pod: Decide, Resolve, Generate, ConfigMap and
// Inject, for the guide's bookbuyer with tracing on.
func BenchmarkMutate(b *testing.B) {
	pod := podOf(demoDeployments(b)["bookbuyer"])
	ns := demoNamespace("bookbuyer", nil)
	env := goldenEnv(meshOn)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inject.Mutate(pod, ns, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInject is Inject alone: the copy and the sidecar's containers and volume.
func BenchmarkInject(b *testing.B) {
	pod := podOf(demoDeployments(b)["bookbuyer"])
	g := fakeGenerated("bookbuyer", "0123456789")
	proxy := inject.DefaultProxyConfig()
	b.ReportAllocs()
	for b.Loop() {
		inject.Inject(pod, g, proxy, inject.Traffic{})
	}
}
