package framework

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// The guide's commands, as written in the user guide (docs: the tracing guide, Chinese). Each
// runs through `bash -c` with KUBECONFIG set and PATH leading to the osm built by the test and
// the cached kubectl, as a user's shell would run it.
const (
	// "自动部署 Jaeger": install with Jaeger and tracing on.
	GuideInstallWithJaeger = `osm install --set=osm.deployJaeger=true,osm.tracing.enable=true`

	// "a) 在安装 OSM 控制平面安装完毕后启用链路追踪" (and step 2 of the example).
	GuidePatch = `kubectl patch meshconfig osm-mesh-config -n osm-system -p '{"spec":{"observability":{"tracing":{"enable":true,"address": "jaeger.osm-system.svc.cluster.local","port":9411,"endpoint":"/api/v2/spans"}}}}'  --type=merge`
	// ... and its check, which is troubleshooting step 2 too.
	GuideGetTracing = `kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing}{"\n"}'`

	// "b) 在 OSM 控制平面安装期间启用链路追踪", placeholders filled in.
	GuideInstallBYO = `osm install --set osm.tracing.enable=true,osm.tracing.address=<链路追踪系统的主机名>,osm.tracing.port=<链路追踪系统的端口>,osm.tracing.endpoint=<链路追踪系统接入点>`

	// "通过端口转发来访问 Jaeger 界面", with K8S_NAMESPACE=osm-system in the environment.
	GuidePortForward = `OSM_POD=$(kubectl get pods -n "$K8S_NAMESPACE" --no-headers  --selector app=jaeger | awk 'NR==1{print $1}')

kubectl port-forward -n "$K8S_NAMESPACE" "$OSM_POD"  16686:16686`

	// Troubleshooting steps 1, 3, 4 and 5.
	GuideGetEnable      = `kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing.enable}{"\n"}'`
	GuideConfigDump     = `osm proxy get config_dump -n <pod-namespace> <pod-name> > <file-name>`
	GuideGetServices    = `kubectl get services -n osm-system -l app=jaeger`
	GuideGetDeployments = `kubectl get deployments -n osm-system -l app=jaeger`
	GuideGetPods        = `kubectl get pods -n osm-system -l app=jaeger`
	GuideDescribePod    = `kubectl describe pod -n osm-system -l app=jaeger`
)

// The BYO example's Jaeger Service and Deployment, as the guide has them (the code blocks'
// list indentation removed, as a reader copying them gets them).
const GuideBYOService = `kubectl apply -f - <<EOF
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

const GuideBYODeployment = `kubectl apply -f - <<EOF
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

// GuideTracingIs checks the guide's `-o jsonpath='{.spec.observability.tracing}{"\n"}'`
// output: one JSON object with tracing on and the given address, port and endpoint.
func GuideTracingIs(t testing.TB, out, address string, port int, endpoint string) {
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
	GuideContains(t, out, `"address":"`+address+`"`, `"endpoint":"`+endpoint+`"`, `"enable":true`)
}

// GuideConfigDumpExcerpt checks the lines of the guide's config_dump excerpt, in the object
// of envoy-tracing-cluster.
func GuideConfigDumpExcerpt(t testing.TB, dump string) {
	t.Helper()
	i := strings.Index(dump, `"name": "envoy-tracing-cluster"`)
	if i < 0 {
		t.Fatalf(`the config_dump has no "name": "envoy-tracing-cluster":\n%s`, dump)
	}
	cluster := dump[i:]
	if end := strings.Index(cluster, `"port_value"`); end >= 0 && end+40 < len(cluster) {
		cluster = cluster[:end+40]
	}
	GuideContains(t, cluster,
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

// GuideContains fails the test unless s holds every want.
func GuideContains(t testing.TB, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("the output lacks %q:\n%s", w, s)
		}
	}
}
