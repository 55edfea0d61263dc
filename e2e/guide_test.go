package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// guideTimeout bounds one scenario of the guide once its cluster is up.
const guideTimeout = 5 * time.Minute

// TestGuide runs the tracing guide's commands as a user types them, on a local control plane
// with kwok (pods become Running without running anything). Two scenarios, each on its own
// cluster: the Jaeger the chart deploys (osm.deployJaeger=true), with the bookstore demo
// (OSM's own images, which cannot run here) injected by osm-injector running as a local
// process; and the guide's BYO Jaeger, with a real Jaeger on loopback that kwok PortForwards
// put behind the Jaeger pod's ports 9411 and 16686.
//
// The rest of the guide runs for real on a real node in e2e/node (TestRealNode/mesh): the
// install with the injector and Jaeger in the cluster, troubleshooting steps 1 to 5, the
// patch rolling the workloads, config_dump through the kubelet, the port-forward to Jaeger and
// spans sent through its Service; those steps are not repeated here. What is not real here:
// no Envoy runs, and the BYO Jaeger's spans are posted by the test, as bookbuyer. The guide's
// `kubectl logs ... -c bookbuyer -f` (bookbuyer's "MAESTRO! THIS TEST SUCCEEDED!") is not run:
// no bookbuyer process runs anywhere to log it.
func TestGuide(t *testing.T) {
	bins := framework.BuildCommands(t)
	t.Run("deployJaeger", func(t *testing.T) {
		t.Parallel()
		guideDeployJaeger(t, bins)
	})
	t.Run("BYO", func(t *testing.T) {
		t.Parallel()
		guideBYO(t, bins)
	})
}

// guideDeployJaeger is the guide with the Jaeger the chart deploys.
func guideDeployJaeger(t *testing.T, bins framework.Commands) {
	c := framework.Start(t, framework.Options{Kwok: true})
	ctx, cancel := context.WithTimeout(t.Context(), guideTimeout)
	defer cancel()
	sh := framework.NewShell(t, bins, c, "K8S_NAMESPACE=osm-system")
	inj := guideInjectorPorts(t)

	guideStep(t, "osm install with Jaeger and tracing (and the local injector's values)", func(t *testing.T) {
		// The guide's command; a second --set points the webhook at osm-injector running on
		// this machine, outside the cluster, and scales the in-cluster one to 0.
		out := sh.OK(t, framework.GuideInstallWithJaeger+" --set=osm.webhook.url="+inj.url()+",osm.injector.replicas=0")
		framework.GuideContains(t, out, "OSM installed successfully in namespace [osm-system] with mesh name [osm]")
	})
	guideStartInjector(ctx, t, bins, c, inj)
	guideStep(t, "troubleshooting 1: tracing is enabled", func(t *testing.T) {
		if out := sh.OK(t, framework.GuideGetEnable); out != "true\n" {
			t.Errorf("%s printed %q, want %q", framework.GuideGetEnable, out, "true\n")
		}
	})
	guideStep(t, "troubleshooting 2: the default install shows address, port and endpoint", func(t *testing.T) {
		// Before the guide's patch: what osm install wrote (the chart writes port 9411).
		framework.GuideTracingIs(t, sh.OK(t, framework.GuideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
	guideStep(t, "the bookstore demo is injected", func(t *testing.T) {
		root, err := framework.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		sh.OK(t, "kubectl apply -f "+filepath.Join(root, "manifests", "demo"))
		for _, ns := range []string{"bookbuyer", "bookstore", "bookwarehouse"} {
			sh.OK(t, "kubectl wait --for=condition=Available deployment --all -n "+ns+" --timeout=3m")
		}
	})
	guideInjectedPod(ctx, t, c, "bookbuyer", "app=bookbuyer")

	guideStep(t, "a) the guide's kubectl patch, then its check", func(t *testing.T) {
		framework.GuideContains(t, sh.OK(t, framework.GuidePatch), "meshconfig.config.openservicemesh.io/osm-mesh-config patched")
		framework.GuideTracingIs(t, sh.OK(t, framework.GuideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
}

// guideBYO is the guide's BYO Jaeger: install pointing at it, its Service and Deployment
// applied as the guide has them, then troubleshooting steps 1, 2, 4 and 5 and the example's
// steps 2 and 3.
func guideBYO(t *testing.T, bins framework.Commands) {
	c := framework.Start(t, framework.Options{Kwok: true})
	jaeger := framework.StartJaeger(t)
	ctx, cancel := context.WithTimeout(t.Context(), guideTimeout)
	defer cancel()
	sh := framework.NewShell(t, bins, c, "K8S_NAMESPACE=osm-system")

	guideStep(t, "b) osm install pointing at a BYO Jaeger", func(t *testing.T) {
		cmd := strings.NewReplacer("<链路追踪系统的主机名>", "jaeger.osm-system.svc.cluster.local",
			"<链路追踪系统的端口>", "9411", "<链路追踪系统接入点>", "/api/v2/spans").Replace(framework.GuideInstallBYO)
		framework.GuideContains(t, sh.OK(t, cmd), "OSM installed successfully in namespace [osm-system] with mesh name [osm]")
		if out := sh.OK(t, framework.GuideGetEnable); out != "true\n" {
			t.Errorf("%s printed %q, want %q", framework.GuideGetEnable, out, "true\n")
		}
		framework.GuideTracingIs(t, sh.OK(t, framework.GuideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
	guideStep(t, "example 1: the guide's Jaeger Service and Deployment", func(t *testing.T) {
		framework.GuideContains(t, sh.OK(t, framework.GuideBYOService), "service/jaeger created")
		framework.GuideContains(t, sh.OK(t, framework.GuideBYODeployment), "deployment.apps/jaeger created")
	})
	guideStep(t, "example 2: the guide's kubectl patch", func(t *testing.T) {
		sh.OK(t, framework.GuidePatch)
		framework.GuideTracingIs(t, sh.OK(t, framework.GuideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
	guideStep(t, "troubleshooting 4: the BYO Jaeger Service and Deployment", func(t *testing.T) {
		// The guide's sample output: one port, 9411/TCP.
		guideMatches(t, sh.OK(t, framework.GuideGetServices),
			`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$`,
			`(?m)^jaeger\s+ClusterIP\s+10\.0\.0\.\d+\s+<none>\s+9411/TCP\s+\S+$`)
		sh.Eventually(ctx, t, framework.GuideGetDeployments, `(?m)^jaeger\s+1/1\s+1\s+1\s+\S+$`)
	})
	guideStep(t, "troubleshooting 5: the BYO Jaeger pod", func(t *testing.T) {
		sh.Eventually(ctx, t, framework.GuideGetPods, `(?m)^jaeger-[a-z0-9]+-[a-z0-9]+\s+1/1\s+Running\s+0\s+\S+$`)
		guideMatches(t, sh.OK(t, framework.GuideDescribePod), `(?m)^Status:\s+Running$`,
			`(?m)^\s+Image:\s+jaegertracing/all-in-one$`, `--collector.zipkin.host-port=9411`, `(?m)^Events:`)
	})
	jaegerPod := guideRunningPod(ctx, t, c, "osm-system", "app=jaeger")
	guideForwardJaeger(ctx, t, c, jaeger, jaegerPod)
	guideStep(t, "example 3: the port-forward to the BYO Jaeger, and a span from bookbuyer", func(t *testing.T) {
		ui := guidePortForwardJaeger(ctx, t, sh, guideUIPort(t), guideJaegerUIPort)
		guideSpanReachesJaeger(ctx, t, sh, ui, jaeger)
	})
}
