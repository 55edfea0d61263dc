package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
)

// guideTimeout bounds one scenario of the guide once its cluster is up.
const guideTimeout = 5 * time.Minute

// The guide's commands, as written in the user guide (docs: the tracing guide, Chinese). Each
// runs through `bash -c` with KUBECONFIG set and PATH leading to the osm built by the test and
// the cached kubectl, as a user's shell would run it.
const (
	// "自动部署 Jaeger": install with Jaeger and tracing on.
	guideInstallWithJaeger = `osm install --set=osm.deployJaeger=true,osm.tracing.enable=true`

	// "a) 在安装 OSM 控制平面安装完毕后启用链路追踪" (and step 2 of the example).
	guidePatch = `kubectl patch meshconfig osm-mesh-config -n osm-system -p '{"spec":{"observability":{"tracing":{"enable":true,"address": "jaeger.osm-system.svc.cluster.local","port":9411,"endpoint":"/api/v2/spans"}}}}'  --type=merge`
	// ... and its check, which is troubleshooting step 2 too.
	guideGetTracing = `kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing}{"\n"}'`

	// "b) 在 OSM 控制平面安装期间启用链路追踪", placeholders filled in.
	guideInstallBYO = `osm install --set osm.tracing.enable=true,osm.tracing.address=<链路追踪系统的主机名>,osm.tracing.port=<链路追踪系统的端口>,osm.tracing.endpoint=<链路追踪系统接入点>`

	// "通过端口转发来访问 Jaeger 界面", with K8S_NAMESPACE=osm-system in the environment.
	guidePortForward = `OSM_POD=$(kubectl get pods -n "$K8S_NAMESPACE" --no-headers  --selector app=jaeger | awk 'NR==1{print $1}')

kubectl port-forward -n "$K8S_NAMESPACE" "$OSM_POD"  16686:16686`

	// Troubleshooting steps 1, 3, 4 and 5.
	guideGetEnable      = `kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing.enable}{"\n"}'`
	guideConfigDump     = `osm proxy get config_dump -n <pod-namespace> <pod-name> > <file-name>`
	guideGetServices    = `kubectl get services -n osm-system -l app=jaeger`
	guideGetDeployments = `kubectl get deployments -n osm-system -l app=jaeger`
	guideGetPods        = `kubectl get pods -n osm-system -l app=jaeger`
	guideDescribePod    = `kubectl describe pod -n osm-system -l app=jaeger`
)

// The BYO example's Jaeger Service and Deployment, as the guide has them (the code blocks'
// list indentation removed, as a reader copying them gets them).
const guideBYOService = `kubectl apply -f - <<EOF
---
kind: Service
apiVersion: v1
metadata:
  name: jaeger
  namespace: osm-system
  labels:
    app: jaeger
spec:
  selector:
    app: jaeger
  ports:
  - protocol: TCP
    # 服务端口和目标端口一致
    port: 9411
  type: ClusterIP
EOF
`

const guideBYODeployment = `kubectl apply -f - <<EOF
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger
  namespace: osm-system
  labels:
    app: jaeger
spec:
  replicas: 1
  selector:
    matchLabels:
      app: jaeger
  template:
    metadata:
      labels:
        app: jaeger
    spec:
      containers:
      - name: jaeger
        image: jaegertracing/all-in-one
        args:
          - --collector.zipkin.host-port=9411
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 9411
        resources:
          limits:
            cpu: 500m
            memory: 512M
          requests:
            cpu: 100m
            memory: 256M
EOF
`

// TestGuide runs the tracing guide's commands as a user types them, on a local control plane
// with kwok (pods become Running without running anything) and a real Jaeger on loopback that
// kwok PortForwards put behind the Jaeger pod's ports 9411 and 16686. Two scenarios, each on
// its own cluster: the Jaeger the chart deploys (osm.deployJaeger=true), with the bookstore
// demo injected by osm-injector running as a local process; and the guide's BYO Jaeger.
//
// What is not real here: no Envoy runs (kwok runs no containers), so Envoy's admin port is
// served by an Envoy admin STAND-IN and the spans Jaeger receives are posted by the test, as
// bookbuyer, not sent by Envoys. The guide's `kubectl logs ... -c bookbuyer -f` (bookbuyer's
// "MAESTRO! THIS TEST SUCCEEDED!") is not run: no bookbuyer process runs to log it.
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
	jaeger := framework.StartJaeger(t)
	ctx, cancel := context.WithTimeout(t.Context(), guideTimeout)
	defer cancel()
	sh := framework.NewShell(t, bins, c, "K8S_NAMESPACE=osm-system")
	inj := guideInjectorPorts(t)

	guideStep(t, "osm install with Jaeger and tracing (and the local injector's values)", func(t *testing.T) {
		// The guide's command; a second --set points the webhook at osm-injector running on
		// this machine, outside the cluster, and scales the in-cluster one to 0.
		out := sh.OK(t, guideInstallWithJaeger+" --set=osm.webhook.url="+inj.url()+",osm.injector.replicas=0")
		guideContains(t, out, "OSM installed successfully in namespace [osm-system] with mesh name [osm]")
	})
	guideStartInjector(ctx, t, bins, c, inj)
	guideStep(t, "troubleshooting 1: tracing is enabled", func(t *testing.T) {
		if out := sh.OK(t, guideGetEnable); out != "true\n" {
			t.Errorf("%s printed %q, want %q", guideGetEnable, out, "true\n")
		}
	})
	guideStep(t, "troubleshooting 4: the Jaeger Service and Deployment", func(t *testing.T) {
		out := sh.OK(t, guideGetServices)
		guideMatches(t, out,
			`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$`,
			`(?m)^jaeger\s+ClusterIP\s+10\.0\.0\.\d+\s+<none>\s+9411/TCP,16686/TCP,4317/TCP,4318/TCP\s+\S+$`)
		sh.Eventually(ctx, t, guideGetDeployments,
			`(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$`,
			`(?m)^jaeger\s+1/1\s+1\s+1\s+\S+$`)
	})
	guideStep(t, "troubleshooting 5: the Jaeger pod is Running and Ready", func(t *testing.T) {
		sh.Eventually(ctx, t, guideGetPods,
			`(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$`,
			`(?m)^jaeger-[a-z0-9]+-[a-z0-9]+\s+1/1\s+Running\s+0\s+\S+$`)
		out := sh.OK(t, guideDescribePod)
		guideMatches(t, out, `(?m)^Name:\s+jaeger-`, `(?m)^Namespace:\s+osm-system$`,
			`(?m)^Status:\s+Running$`, `(?m)^\s+jaeger:$`, `(?m)^Events:`)
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
	pod := guideInjectedPod(ctx, t, c, "bookbuyer", "app=bookbuyer")

	guideStep(t, "a) the guide's kubectl patch, then its check", func(t *testing.T) {
		guideContains(t, sh.OK(t, guidePatch), "meshconfig.config.openservicemesh.io/osm-mesh-config patched")
		guideTracingIs(t, sh.OK(t, guideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
	guideStep(t, "troubleshooting 3: osm proxy get config_dump (an Envoy admin stand-in answers)", func(t *testing.T) {
		guideStandIn(ctx, t, c, pod)
		file := filepath.Join(t.TempDir(), "bookbuyer-config_dump.json")
		cmd := strings.NewReplacer("<pod-namespace>", pod.Namespace, "<pod-name>", pod.Name, "<file-name>", file).
			Replace(guideConfigDump)
		// kwok sees a new PortForward a moment later: the first tries may fail.
		sh.Eventually(ctx, t, cmd)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		guideConfigDumpExcerpt(t, string(data))
	})

	jaegerPod := guideRunningPod(ctx, t, c, "osm-system", "app=jaeger")
	guideForwardJaeger(ctx, t, c, jaeger, jaegerPod)
	guideStep(t, "the port-forward to Jaeger's UI port, and a span from bookbuyer", func(t *testing.T) {
		ui := guidePortForwardJaeger(ctx, t, sh, guideUIPort(t), guideJaegerUIPort)
		if _, err := guideJaegerServices(ctx, ui); err != nil {
			t.Fatalf("GET http://%s/api/services through the guide's port-forward: %v", ui, err)
		}
		guideSpanReachesJaeger(ctx, t, sh, ui, jaeger)
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
			"<链路追踪系统的端口>", "9411", "<链路追踪系统接入点>", "/api/v2/spans").Replace(guideInstallBYO)
		guideContains(t, sh.OK(t, cmd), "OSM installed successfully in namespace [osm-system] with mesh name [osm]")
		if out := sh.OK(t, guideGetEnable); out != "true\n" {
			t.Errorf("%s printed %q, want %q", guideGetEnable, out, "true\n")
		}
		guideTracingIs(t, sh.OK(t, guideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
	guideStep(t, "example 1: the guide's Jaeger Service and Deployment", func(t *testing.T) {
		guideContains(t, sh.OK(t, guideBYOService), "service/jaeger created")
		guideContains(t, sh.OK(t, guideBYODeployment), "deployment.apps/jaeger created")
	})
	guideStep(t, "example 2: the guide's kubectl patch", func(t *testing.T) {
		sh.OK(t, guidePatch)
		guideTracingIs(t, sh.OK(t, guideGetTracing), "jaeger.osm-system.svc.cluster.local", 9411, "/api/v2/spans")
	})
	guideStep(t, "troubleshooting 4: the BYO Jaeger Service and Deployment", func(t *testing.T) {
		// The guide's sample output: one port, 9411/TCP.
		guideMatches(t, sh.OK(t, guideGetServices),
			`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$`,
			`(?m)^jaeger\s+ClusterIP\s+10\.0\.0\.\d+\s+<none>\s+9411/TCP\s+\S+$`)
		sh.Eventually(ctx, t, guideGetDeployments, `(?m)^jaeger\s+1/1\s+1\s+1\s+\S+$`)
	})
	guideStep(t, "troubleshooting 5: the BYO Jaeger pod", func(t *testing.T) {
		sh.Eventually(ctx, t, guideGetPods, `(?m)^jaeger-[a-z0-9]+-[a-z0-9]+\s+1/1\s+Running\s+0\s+\S+$`)
		guideMatches(t, sh.OK(t, guideDescribePod), `(?m)^Status:\s+Running$`,
			`(?m)^\s+Image:\s+jaegertracing/all-in-one$`, `--collector.zipkin.host-port=9411`, `(?m)^Events:`)
	})
	jaegerPod := guideRunningPod(ctx, t, c, "osm-system", "app=jaeger")
	guideForwardJaeger(ctx, t, c, jaeger, jaegerPod)
	guideStep(t, "example 3: the port-forward to the BYO Jaeger, and a span from bookbuyer", func(t *testing.T) {
		ui := guidePortForwardJaeger(ctx, t, sh, guideUIPort(t), guideJaegerUIPort)
		guideSpanReachesJaeger(ctx, t, sh, ui, jaeger)
	})
}

// guideTracingIs checks the guide's `-o jsonpath='{.spec.observability.tracing}{"\n"}'`
// output: one JSON object with tracing on and the given address, port and endpoint.
func guideTracingIs(t *testing.T, out, address string, port int, endpoint string) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("the output does not end with the jsonpath's newline: %q", out)
	}
	var got struct {
		Enable   *bool  `json:"enable"`
		Address  string `json:"address"`
		Port     int    `json:"port"`
		Endpoint string `json:"endpoint"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the tracing settings are not one JSON object: %v: %q", err, out)
	}
	if got.Enable == nil || !*got.Enable || got.Address != address || got.Port != port || got.Endpoint != endpoint {
		t.Errorf("tracing = %s, want enable true, address %s, port %d, endpoint %s", strings.TrimSpace(out), address, port, endpoint)
	}
	guideContains(t, out, `"address":"`+address+`"`, `"endpoint":"`+endpoint+`"`, `"enable":true`)
}

// guideConfigDumpExcerpt checks the lines of the guide's config_dump excerpt, in the object
// of envoy-tracing-cluster.
func guideConfigDumpExcerpt(t *testing.T, dump string) {
	t.Helper()
	i := strings.Index(dump, `"name": "envoy-tracing-cluster"`)
	if i < 0 {
		t.Fatalf(`the config_dump has no "name": "envoy-tracing-cluster":\n%s`, dump)
	}
	cluster := dump[i:]
	if end := strings.Index(cluster, `"port_value"`); end >= 0 && end+40 < len(cluster) {
		cluster = cluster[:end+40]
	}
	guideContains(t, cluster,
		`"type": "LOGICAL_DNS"`,
		`"connect_timeout": "1s"`,
		`"alt_stat_name": "envoy-tracing-cluster"`,
		`"cluster_name": "envoy-tracing-cluster"`,
		`"address": "jaeger.osm-system.svc.cluster.local"`,
		`"port_value": 9411`)
	if !regexp.MustCompile(`"socket_address": \{\s+"address": "jaeger\.osm-system\.svc\.cluster\.local",\s+"port_value": 9411`).MatchString(cluster) {
		t.Errorf("the tracing cluster's socket_address is not the guide's:\n%s", cluster)
	}
}
