package node

import (
	"strings"

	"github.com/osm-tracing/osm-tracing/e2e/testimages"
)

// The bookstore-like workloads of the mesh scenarios, all running the test application
// (e2e/testapp) with the Envoy stand-in injected beside it:
//   - bookbuyer (namespace bookbuyer) calls the others from `kubectl exec`; its redirect
//     leaves out destination port 9090 and warehouseIP. It has init containers of its own,
//     which injection places after osm-init and envoy: a native sidecar (a server) and an
//     init container that calls the API server through the kubernetes Service, so that the
//     scenario sees that they get the mesh;
//   - bookstore (namespace bookstore) serves 8080, 9090 and 9091, its Service has the
//     three ports, and 9091 is left out of its inbound redirect; it keeps serving 2 s after
//     SIGTERM, and has a preStop hook, so that the termination scenario sees the kubelet's
//     order with a slow application;
//   - bookwarehouse (namespace bookstore) behind a Service with the fixed ClusterIP
//     warehouseIP.
//
// Every app has an httpGet readiness probe on /healthz of 8080, which the kubelet sends from
// the node's address, so through the pod's inbound redirect and its sidecar.
const (
	buyerNS = "bookbuyer"
	storeNS = "bookstore"
	// warehouseIP is bookwarehouse's ClusterIP, chosen in NodeServiceCIDR so that bookbuyer's
	// outbound-ip-range-exclusion-list can name it before it exists.
	warehouseIP = "10.232.0.200"
	// The bookstore ports: one redirected both ways, one excluded by bookbuyer's outbound
	// list, one excluded by bookstore's inbound list.
	portApp             = "8080"
	portOutboundExclude = "9090"
	portInboundExclude  = "9091"
)

// workloadsYAML are the Deployments and Services, applied with kubectl as a user would.
var workloadsYAML = strings.NewReplacer("TESTAPP", testimages.TestAppImage, "WAREHOUSE_IP", warehouseIP).Replace(`
apiVersion: v1
kind: ServiceAccount
metadata: {name: bookbuyer, namespace: bookbuyer}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bookbuyer, namespace: bookbuyer}
spec:
  replicas: 1
  selector: {matchLabels: {app: bookbuyer}}
  template:
    metadata:
      labels: {app: bookbuyer}
      annotations:
        openservicemesh.io/outbound-port-exclusion-list: "9090"
        openservicemesh.io/outbound-ip-range-exclusion-list: "WAREHOUSE_IP/32"
    spec:
      serviceAccountName: bookbuyer
      terminationGracePeriodSeconds: 5
      initContainers:
      - name: buyer-helper
        image: TESTAPP
        imagePullPolicy: Never
        restartPolicy: Always
        command: [/testapp]
        args: [serve, --port, "8082"]
      - name: fetch-config
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [get, --ca, /var/run/secrets/kubernetes.io/serviceaccount/ca.crt, "https://kubernetes.default.svc.cluster.local/readyz"]
      containers:
      - name: bookbuyer
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [serve, --port, "8080"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bookstore, namespace: bookstore}
spec:
  replicas: 1
  selector: {matchLabels: {app: bookstore}}
  template:
    metadata:
      labels: {app: bookstore}
      annotations:
        openservicemesh.io/inbound-port-exclusion-list: "9091"
    spec:
      terminationGracePeriodSeconds: 20
      containers:
      - name: bookstore
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [serve, --port, "8080", --port, "9090", --port, "9091", --term-delay, 2s]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
          failureThreshold: 1
        lifecycle:
          preStop:
            exec: {command: [/testapp, sleep, 1s]}
---
apiVersion: v1
kind: Service
metadata: {name: bookstore, namespace: bookstore}
spec:
  selector: {app: bookstore}
  ports:
  - {name: http, port: 8080}
  - {name: excluded-out, port: 9090}
  - {name: excluded-in, port: 9091}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bookwarehouse, namespace: bookstore}
spec:
  replicas: 1
  selector: {matchLabels: {app: bookwarehouse}}
  template:
    metadata:
      labels: {app: bookwarehouse}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: bookwarehouse
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [serve, --port, "8080"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: bookwarehouse, namespace: bookstore}
spec:
  selector: {app: bookwarehouse}
  clusterIP: WAREHOUSE_IP
  ports:
  - {name: http, port: 8080}
`)

// jobYAML is a Job whose one pod, injected, calls bookstore once through its sidecar and
// completes: with Envoy as a native sidecar the kubelet stops it once the app has exited.
var jobYAML = strings.NewReplacer("TESTAPP", testimages.TestAppImage).Replace(`
apiVersion: batch/v1
kind: Job
metadata: {name: restock, namespace: bookbuyer}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: restock
        image: TESTAPP
        imagePullPolicy: Never
        command: [/testapp]
        args: [run-job, http://bookstore.bookstore.svc.cluster.local:8080/]
`)
