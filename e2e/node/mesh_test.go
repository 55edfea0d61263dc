package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/e2e/testimages"
	"github.com/osm-tracing/osm-tracing/manifests"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// meshTimeout bounds the whole mesh scenario once the node is up.
const meshTimeout = 12 * time.Minute

// What the test adds to the guide's install command (framework.GuideInstallWithJaeger): the
// sidecar's image, which on this machine is the Envoy stand-in (Envoy's image cannot be pulled
// here). The injector, osm-init and Jaeger run from the chart's default images: our own
// osm-injector and osm-init images (make image) and Jaeger built from the source of the
// chart's Jaeger release.
var installImages = " --set=osm.sidecar.image=" + testimages.EnvoyStandInImage

// testMesh runs the mesh on the real node: the guide's install with the injector in the
// cluster, bookstore-like workloads injected, what the redirect does inside real pods, the
// spans' path to Jaeger, a Job, a MeshConfig patch that rolls the workloads, self-healing,
// termination as the kubelet does it, osm proxy get through the kubelet's port-forward, and
// a clean uninstall. The steps build on each other: the first failure stops it.
func (e *nodeEnv) testMesh(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), meshTimeout)
	defer cancel()
	cmds := framework.BuildCommands(t)
	m := &mesh{c: e.c, cmds: cmds, sh: framework.NewShell(t, cmds, e.c, "K8S_NAMESPACE=osm-system")}

	step(t, "the guide's install runs the injector in the cluster", func(t *testing.T) { m.install(ctx, t) })
	step(t, "the guide's troubleshooting steps 1, 4 and 5", func(t *testing.T) { m.troubleshooting(ctx, t) })
	step(t, "bookstore workloads injected and Ready", func(t *testing.T) { m.workloads(ctx, t) })
	step(t, "start order: osm-init, then envoy's startup probe, then the app", func(t *testing.T) { m.startOrder(ctx, t) })
	step(t, "the user's init containers and native sidecars get the mesh", func(t *testing.T) { m.userInitContainers(ctx, t) })
	step(t, "a pod in conflict with the sidecar is refused by name", func(t *testing.T) { m.conflict(ctx, t) })
	step(t, "redirect inside real pods", func(t *testing.T) { m.redirect(ctx, t) })
	step(t, "httpGet probes through the sidecar are truthful", func(t *testing.T) { m.probes(ctx, t) })
	step(t, "spans reach Jaeger through its Service", func(t *testing.T) { m.spans(ctx, t) })
	step(t, "Jaeger's traces have the span names and Kubernetes tags", func(t *testing.T) { m.traces(ctx, t) })
	step(t, "a pod annotated opentelemetry exports OTLP with the Kubernetes resource", func(t *testing.T) { m.otlp(ctx, t) })
	step(t, "the sidecar's Prometheus listener answers a scrape", func(t *testing.T) { m.prometheus(ctx, t) })
	step(t, "a Job with the sidecar completes", func(t *testing.T) { m.job(ctx, t) })
	step(t, "osm proxy get through the kubelet's port-forward", func(t *testing.T) { m.proxyGet(ctx, t) })
	step(t, "the guide's kubectl patch rolls the workloads", func(t *testing.T) { m.patchRolls(ctx, t) })
	step(t, "pods admitted while the injector was down are healed", func(t *testing.T) { m.heal(ctx, t) })
	step(t, "termination as the kubelet does it", func(t *testing.T) { m.termination(ctx, t) })
	step(t, "osm uninstall mesh leaves nothing behind", func(t *testing.T) { m.uninstall(ctx, t) })
}

// install runs the guide's install and checks that osm-injector runs in the cluster from our
// image, under the chart's securityContext, and that the API server calls it through its
// Service.
func (m *mesh) install(ctx context.Context, t *testing.T) {
	began := time.Now()
	out := m.sh.OK(t, framework.GuideInstallWithJaeger+installImages+" --timeout=5m")
	if !strings.Contains(out, "OSM installed successfully in namespace [osm-system] with mesh name [osm]") {
		t.Fatalf("osm install did not say it installed the mesh:\n%s", out)
	}
	t.Logf("osm install returned after %s (it waits for the control plane)", time.Since(began).Round(time.Millisecond))
	img, err := manifests.DefaultInjectorImage()
	if err != nil {
		t.Fatal(err)
	}
	pods, err := m.c.Clientset.CoreV1().Pods(bootstrap.DefaultNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	injectors := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if !podReady(p) {
			t.Errorf("pod %s is not Ready: %s", p.Name, framework.PodSummary(p))
		}
		if p.Spec.NodeName != framework.NodeName {
			t.Errorf("pod %s runs on %q, want the real node", p.Name, p.Spec.NodeName)
		}
		for _, c := range p.Spec.Containers {
			if c.Image != img.Ref() {
				continue
			}
			injectors++
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("osm-injector container of %s: securityContext %+v, want the chart's read-only, no escalation", p.Name, sc)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("osm-injector container of %s has no readiness or liveness probe", p.Name)
			}
		}
	}
	if injectors == 0 {
		t.Fatalf("no pod in %s runs %s: %d pods", bootstrap.DefaultNamespace, img.Ref(), len(pods.Items))
	}
	t.Logf("%d osm-injector pods Ready from %s", injectors, img.Ref())
	mwc, err := m.c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, webhook.ConfigurationName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range mwc.Webhooks {
		if w.ClientConfig.Service == nil || w.ClientConfig.URL != nil {
			t.Errorf("webhook %s: clientConfig %+v, want the osm-injector Service", w.Name, w.ClientConfig)
		}
	}
}

// troubleshooting runs the guide's troubleshooting steps 1, 4 and 5 as written: tracing is
// on, the Jaeger Service and Deployment are there and its pod is Running and Ready, for real
// on the node.
func (m *mesh) troubleshooting(ctx context.Context, t *testing.T) {
	if out := m.sh.OK(t, framework.GuideGetEnable); out != "true\n" {
		t.Errorf("%s printed %q, want %q", framework.GuideGetEnable, out, "true\n")
	}
	svc := m.sh.OK(t, framework.GuideGetServices)
	if !framework.AllMatch(svc, []string{`(?m)^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$`,
		`(?m)^jaeger\s+ClusterIP\s+10\.232\.0\.\d+\s+<none>\s+9411/TCP,16686/TCP,4317/TCP,4318/TCP\s+\S+$`}) {
		t.Errorf("%s:\n%s", framework.GuideGetServices, svc)
	}
	m.sh.Eventually(ctx, t, framework.GuideGetDeployments, `(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$`, `(?m)^jaeger\s+1/1\s+1\s+1\s+\S+$`)
	m.sh.Eventually(ctx, t, framework.GuideGetPods, `(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$`,
		`(?m)^jaeger-[a-z0-9]+-[a-z0-9]+\s+1/1\s+Running\s+0\s+\S+$`)
	m.sh.Eventually(ctx, t, framework.GuideDescribePod, `(?m)^Name:\s+jaeger-`, `(?m)^Namespace:\s+osm-system$`,
		`(?m)^Status:\s+Running$`, `(?m)^\s+jaeger:$`, `(?m)^\s+Ready:\s+True$`, `(?m)^Events:`)
}

// workloads labels the namespaces with osm namespace add, applies the workloads as a user
// would, and checks that every pod is injected and Ready with its sidecar.
func (m *mesh) workloads(ctx context.Context, t *testing.T) {
	m.sh.OK(t, "kubectl create namespace "+buyerNS+" && kubectl create namespace "+storeNS)
	m.sh.OK(t, "osm namespace add "+buyerNS+" "+storeNS)
	began := time.Now()
	m.sh.OK(t, "kubectl apply -f - <<'EOF'\n"+workloadsYAML+"\nEOF")
	for _, ns := range []string{buyerNS, storeNS} {
		m.sh.OK(t, "kubectl wait --for=condition=Available deployment --all -n "+ns+" --timeout=3m")
	}
	t.Logf("the three Deployments Available %s after kubectl apply", time.Since(began).Round(time.Millisecond))
	for _, w := range [][2]string{{buyerNS, "bookbuyer"}, {storeNS, "bookstore"}, {storeNS, "bookwarehouse"}} {
		p := m.podOf(ctx, t, w[0], w[1])
		if err := injected(p); err != nil {
			t.Error(err)
		}
	}
	// kubectl's READY column counts the native sidecar: 2/2.
	m.sh.Eventually(ctx, t, "kubectl get pods -n "+storeNS+" -l app=bookstore",
		`(?m)^bookstore-[a-z0-9]+-[a-z0-9]+\s+2/2\s+Running\s+0\s+\S+$`)
}

// startOrder checks the order the kubelet ran the bookstore pod's containers in, from their
// statuses (seconds) and the stand-in's and the app's own logs (nanoseconds): osm-init
// exited 0, envoy started, the stand-in was listening (its startup probe then passed), and
// only then did the app start.
func (m *mesh) startOrder(ctx context.Context, t *testing.T) {
	p := m.podOf(ctx, t, storeNS, "bookstore")
	var initDone, envoyStarted time.Time
	for _, st := range p.Status.InitContainerStatuses {
		switch st.Name {
		case inject.InitContainerName:
			term := st.State.Terminated
			if term == nil || term.ExitCode != 0 {
				t.Fatalf("osm-init: state %+v, want terminated with exit code 0", st.State)
			}
			initDone = term.FinishedAt.Time
		case inject.EnvoyContainerName:
			if st.State.Running == nil || st.Started == nil || !*st.Started || !st.Ready {
				t.Fatalf("envoy: state %+v started %v ready %v, want running, started and ready", st.State, st.Started, st.Ready)
			}
			envoyStarted = st.State.Running.StartedAt.Time
		}
	}
	envoy := m.events(ctx, t, p.Namespace, p.Name, inject.EnvoyContainerName)
	app := m.events(ctx, t, p.Namespace, p.Name, "bookstore")
	ready, err := firstEvent(envoy, "ready")
	if err != nil {
		t.Fatalf("envoy stand-in: %v", err)
	}
	appStart, err := firstEvent(app, "start")
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	// Container statuses have whole seconds: compare them at that precision.
	if envoyStarted.Before(initDone) {
		t.Errorf("envoy started at %s, before osm-init finished at %s", envoyStarted, initDone)
	}
	if ready.Time.Truncate(time.Second).Before(envoyStarted) {
		t.Errorf("the stand-in was ready at %s, before envoy started at %s", ready.Time, envoyStarted)
	}
	if !appStart.Time.After(ready.Time) {
		t.Errorf("the app started at %s, not after the stand-in was listening at %s", appStart.Time, ready.Time)
	}
	t.Logf("observed: osm-init finished %s; envoy started %s; stand-in listening %s; app started %s (%s after the stand-in was listening)",
		initDone.Format(time.RFC3339), envoyStarted.Format(time.RFC3339), ready.Time.Format(time.RFC3339Nano),
		appStart.Time.Format(time.RFC3339Nano), appStart.Time.Sub(ready.Time).Round(time.Millisecond))
	logs, _, err := m.c.KubectlContext(ctx, "logs", "-n", p.Namespace, p.Name, "-c", inject.InitContainerName)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("osm-init's log:\n%s", logs)
	if !strings.Contains(logs, "osm-init: IPv4 traffic redirected to Envoy") {
		t.Errorf("osm-init did not report the IPv4 redirect")
	}
	if podIP(p, true) != "" && !strings.Contains(logs, "osm-init: IPv6 traffic redirected to Envoy") {
		t.Errorf("the pod has IPv6 address %s but osm-init did not report the IPv6 redirect", podIP(p, true))
	}
	// This node's kernel has IPv6: Envoy reads the dual-stack rendering through the link.
	if !strings.Contains(logs, "osm-init: Envoy reads /etc/envoy/bootstrap.yaml (/var/run/osm/bootstrap.yaml)") {
		t.Errorf("osm-init did not say it linked the dual-stack bootstrap")
	}
}

// testappAnswer is the JSON the test application answers GET / with.
type testappAnswer struct {
	Hostname   string `json:"hostname"`
	RemoteAddr string `json:"remote_addr"`
	LocalAddr  string `json:"local_addr"`
}

// get runs the test application's client in bookbuyer's app container and decodes the
// answer of a GET / from another test application.
func (m *mesh) get(ctx context.Context, t *testing.T, buyer *corev1.Pod, url string) testappAnswer {
	t.Helper()
	out, errOut, err := m.c.Exec(ctx, buyer.Namespace, buyer.Name, "bookbuyer", "/testapp", "get", "--timeout", "10s", url)
	if err != nil {
		t.Fatalf("GET %s from bookbuyer: %v\n%s%s", url, err, out, errOut)
	}
	// The client prints the status line, then the body.
	_, body, _ := strings.Cut(out, "\n")
	var a testappAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("GET %s from bookbuyer: the answer is not the test app's JSON: %v\n%s", url, err, out)
	}
	return a
}

// userInitContainers: bookbuyer's own native sidecar and init container run after osm-init
// and envoy, so the init container's call to the API server (through the kubernetes
// Service, the first thing it does) left through envoy's outbound listener, and succeeded.
func (m *mesh) userInitContainers(ctx context.Context, t *testing.T) {
	buyer := m.podOf(ctx, t, buyerNS, "bookbuyer")
	var names []string
	for _, c := range buyer.Spec.InitContainers {
		names = append(names, c.Name)
	}
	if want := []string{inject.InitContainerName, inject.EnvoyContainerName, "buyer-helper", "fetch-config"}; !slices.Equal(names, want) {
		t.Fatalf("bookbuyer's init containers are %v, want %v", names, want)
	}
	for _, st := range buyer.Status.InitContainerStatuses {
		switch st.Name {
		case "fetch-config":
			if term := st.State.Terminated; term == nil || term.ExitCode != 0 || st.RestartCount != 0 {
				t.Errorf("fetch-config: state %+v, %d restarts; want one run that exited 0", st.State, st.RestartCount)
			}
		case "buyer-helper":
			if st.State.Running == nil || st.RestartCount != 0 {
				t.Errorf("buyer-helper: state %+v, %d restarts; want running, never restarted", st.State, st.RestartCount)
			}
		}
	}
	ev := m.events(ctx, t, buyerNS, buyer.Name, inject.EnvoyContainerName)
	api := net.JoinHostPort(framework.KubernetesServiceIP, "443")
	if n := len(connections(ev, "outbound", api)); n == 0 {
		t.Errorf("bookbuyer's sidecar relayed no connection to the API server at %s: fetch-config went around it", api)
	}
	for _, e := range ev {
		if e.Event == "connection_refused" {
			t.Errorf("bookbuyer's sidecar refused a connection: %+v", e)
		}
	}
}

// conflict: a pod whose container has the sidecar's name is refused when it is created, with
// the field and the fix, whatever the failure policy.
func (m *mesh) conflict(ctx context.Context, t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "conflicting", Namespace: buyerNS},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: inject.EnvoyContainerName, Image: testimages.TestAppImage, ImagePullPolicy: corev1.PullNever,
			Command: []string{"/testapp"}, Args: []string{"sleep", "infinity"},
		}}},
	}
	_, err := m.c.Clientset.CoreV1().Pods(buyerNS).Create(ctx, pod, metav1.CreateOptions{})
	want := `pod spec.containers[0].name: invalid value "envoy": is the name of a container the injector adds`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("creating a pod with a container named envoy: %v\nwant a denial containing %q", err, want)
	}
}

// redirect sends requests from inside bookbuyer and reads what each sidecar saw.
func (m *mesh) redirect(ctx context.Context, t *testing.T) {
	buyer := m.podOf(ctx, t, buyerNS, "bookbuyer")
	store := m.podOf(ctx, t, storeNS, "bookstore")
	warehouse := m.podOf(ctx, t, storeNS, "bookwarehouse")
	svc, err := m.c.Clientset.CoreV1().Services(storeNS).Get(ctx, "bookstore", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	storeIP := podIP(store, false)
	buyerIP := podIP(buyer, false)
	name := "bookstore.bookstore.svc.cluster.local"

	// In and out through both sidecars: bookbuyer's outbound listener sees the ClusterIP as
	// the original destination, bookstore's inbound listener the pod's own address; the app
	// sees the connection come from its own sidecar (its pod's address), not from bookbuyer.
	a := m.get(ctx, t, buyer, "http://"+net.JoinHostPort(name, portApp)+"/")
	wantOut := net.JoinHostPort(svc.Spec.ClusterIP, portApp)
	wantIn := net.JoinHostPort(storeIP, portApp)
	buyerEv := m.events(ctx, t, buyerNS, buyer.Name, inject.EnvoyContainerName)
	storeEv := m.events(ctx, t, storeNS, store.Name, inject.EnvoyContainerName)
	if n := len(connections(buyerEv, "outbound", wantOut)); n != 1 {
		t.Errorf("bookbuyer's sidecar: %d outbound connections to %s, want 1", n, wantOut)
	}
	if n := len(connections(storeEv, "inbound", wantIn)); n == 0 {
		t.Errorf("bookstore's sidecar: no inbound connection to %s", wantIn)
	}
	if host, _, _ := net.SplitHostPort(a.RemoteAddr); host != storeIP {
		t.Errorf("bookstore's app saw the request from %s, want its own sidecar at %s", a.RemoteAddr, storeIP)
	}

	// Destination port 9090 is excluded from bookbuyer's outbound redirect: its sidecar sees
	// nothing; bookstore's inbound sidecar still does.
	a = m.get(ctx, t, buyer, "http://"+net.JoinHostPort(name, portOutboundExclude)+"/")
	buyerEv = m.events(ctx, t, buyerNS, buyer.Name, inject.EnvoyContainerName)
	storeEv = m.events(ctx, t, storeNS, store.Name, inject.EnvoyContainerName)
	if n := len(connections(buyerEv, "outbound", net.JoinHostPort(svc.Spec.ClusterIP, portOutboundExclude))); n != 0 {
		t.Errorf("bookbuyer's sidecar relayed %d connections to the excluded port %s", n, portOutboundExclude)
	}
	if n := len(connections(storeEv, "inbound", net.JoinHostPort(storeIP, portOutboundExclude))); n == 0 {
		t.Errorf("bookstore's sidecar: no inbound connection on %s", portOutboundExclude)
	}
	if host, _, _ := net.SplitHostPort(a.RemoteAddr); host != storeIP {
		t.Errorf("port %s: the app saw %s, want its sidecar at %s", portOutboundExclude, a.RemoteAddr, storeIP)
	}

	// Port 9091 is excluded from bookstore's inbound redirect: the app sees bookbuyer's
	// sidecar (bookbuyer's address) directly.
	a = m.get(ctx, t, buyer, "http://"+net.JoinHostPort(name, portInboundExclude)+"/")
	storeEv = m.events(ctx, t, storeNS, store.Name, inject.EnvoyContainerName)
	if n := len(connections(storeEv, "inbound", net.JoinHostPort(storeIP, portInboundExclude))); n != 0 {
		t.Errorf("bookstore's sidecar relayed %d connections to its excluded inbound port %s", n, portInboundExclude)
	}
	if host, _, _ := net.SplitHostPort(a.RemoteAddr); host != buyerIP {
		t.Errorf("port %s: the app saw %s, want bookbuyer at %s", portInboundExclude, a.RemoteAddr, buyerIP)
	}

	// bookwarehouse's ClusterIP is in bookbuyer's excluded ranges.
	m.get(ctx, t, buyer, "http://"+net.JoinHostPort(warehouseIP, portApp)+"/")
	buyerEv = m.events(ctx, t, buyerNS, buyer.Name, inject.EnvoyContainerName)
	whEv := m.events(ctx, t, storeNS, warehouse.Name, inject.EnvoyContainerName)
	if n := len(connections(buyerEv, "outbound", net.JoinHostPort(warehouseIP, portApp))); n != 0 {
		t.Errorf("bookbuyer's sidecar relayed %d connections to the excluded range %s/32", n, warehouseIP)
	}
	if n := len(connections(whEv, "inbound", net.JoinHostPort(podIP(warehouse, false), portApp))); n == 0 {
		t.Errorf("bookwarehouse's sidecar: no inbound connection")
	}

	// No loop: every connection the sidecars relayed was redirected once, none was refused
	// as a connection to their own listeners, and the spans they sent (as uid 1500) did not
	// come back through their outbound listener.
	for _, evs := range [][]event{buyerEv, storeEv, whEv} {
		for _, e := range evs {
			if e.Event == "connection_refused" {
				t.Errorf("a sidecar refused a connection (a loop or a direct connection to a listener): %s", e)
			}
			if e.Event == "connection" && e.Listener == "outbound" && strings.HasSuffix(e.OriginalDst, ":9411") {
				t.Errorf("a sidecar's own span post came back through its outbound listener: %s", e)
			}
		}
	}

	// IPv6, where the pods have it: bookbuyer to bookstore's IPv6 address.
	store6 := podIP(store, true)
	if store6 == "" {
		t.Logf("the pods have no IPv6 address: the IPv6 redirect is not exercised")
		return
	}
	a = m.get(ctx, t, buyer, "http://"+net.JoinHostPort(store6, portApp)+"/")
	buyerEv = m.events(ctx, t, buyerNS, buyer.Name, inject.EnvoyContainerName)
	storeEv = m.events(ctx, t, storeNS, store.Name, inject.EnvoyContainerName)
	want6 := net.JoinHostPort(store6, portApp)
	if n := len(connections(buyerEv, "outbound", want6)); n != 1 {
		t.Errorf("IPv6: bookbuyer's sidecar: %d outbound connections to %s, want 1", n, want6)
	}
	if n := len(connections(storeEv, "inbound", want6)); n == 0 {
		t.Errorf("IPv6: bookstore's sidecar: no inbound connection to %s", want6)
	}
	if host, _, _ := net.SplitHostPort(a.RemoteAddr); host != store6 {
		t.Errorf("IPv6: the app saw %s, want its own sidecar at %s", a.RemoteAddr, store6)
	}
}

// probes makes bookstore's health check fail and recover: the kubelet's httpGet readiness
// probe, which enters the pod through the inbound redirect and the sidecar, must follow.
func (m *mesh) probes(ctx context.Context, t *testing.T) {
	store := m.podOf(ctx, t, storeNS, "bookstore")
	base := "http://" + net.JoinHostPort(podIP(store, false), portApp)
	if _, err := httpPost(ctx, base+"/fail"); err != nil {
		t.Fatal(err)
	}
	m.waitReady(ctx, t, store, false)
	if _, err := httpPost(ctx, base+"/recover"); err != nil {
		t.Fatal(err)
	}
	m.waitReady(ctx, t, store, true)
}

// waitReady waits until the pod's Ready condition is want.
func (m *mesh) waitReady(ctx context.Context, t *testing.T, p *corev1.Pod, want bool) {
	t.Helper()
	began := time.Now()
	framework.Eventually(ctx, t, fmt.Sprintf("pod %s Ready=%t", p.Name, want), func() error {
		got, err := m.c.Clientset.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if podReady(got) != want {
			return errNotYet
		}
		return nil
	})
	t.Logf("pod %s Ready=%t after %s", p.Name, want, time.Since(began).Round(time.Millisecond))
}

// job runs a Job with the sidecar to completion; its call went through the sidecar.
func (m *mesh) job(ctx context.Context, t *testing.T) {
	began := time.Now()
	m.sh.OK(t, "kubectl apply -f - <<'EOF'\n"+jobYAML+"\nEOF")
	framework.Eventually(ctx, t, "the Job to complete", func() error {
		job, err := m.c.Clientset.BatchV1().Jobs(buyerNS).Get(ctx, "restock", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range job.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			switch c.Type {
			case batchv1.JobComplete:
				return nil
			case batchv1.JobFailed:
				out, _, _ := m.c.KubectlContext(ctx, "logs", "-n", buyerNS, "job/restock", "--all-containers")
				t.Fatalf("the Job failed: %s: %s\n%s", c.Reason, c.Message, out)
			default:
			}
		}
		return errNotYet
	})
	t.Logf("the Job completed %s after kubectl apply", time.Since(began).Round(time.Millisecond))
	pods, err := m.c.Clientset.CoreV1().Pods(buyerNS).List(ctx, metav1.ListOptions{LabelSelector: "job-name=restock"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("the Job's pod: %v, %v", pods, err)
	}
	p := &pods.Items[0]
	if err := injected(p); err != nil {
		t.Fatal(err)
	}
	evs := m.events(ctx, t, p.Namespace, p.Name, inject.EnvoyContainerName)
	relayed := false
	for _, e := range evs {
		relayed = relayed || (e.Event == "connection" && e.Listener == "outbound" && strings.HasSuffix(e.OriginalDst, ":"+portApp))
	}
	if !relayed {
		t.Errorf("the Job's call to bookstore did not go through its sidecar: %v", evs)
	}
	if _, err := firstEvent(evs, "signal"); err != nil {
		t.Errorf("the Job's sidecar was not stopped with a signal: %v", err)
	}
}

// uninstall removes the mesh with its namespace and CRD and checks that nothing of it is
// left: no control-plane pod on the node, no webhook configuration, no CRD, and new pods in
// the labelled namespaces are created as written.
func (m *mesh) uninstall(ctx context.Context, t *testing.T) {
	out := m.sh.OK(t, "osm uninstall mesh -y --delete-crds --delete-namespace")
	if !strings.Contains(out, "uninstalled") {
		t.Errorf("osm uninstall mesh did not say it uninstalled:\n%s", out)
	}
	framework.Eventually(ctx, t, "namespace osm-system gone", func() error {
		_, err := m.c.Clientset.CoreV1().Namespaces().Get(ctx, bootstrap.DefaultNamespace, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return errNotYet
	})
	if _, err := m.c.Clientset.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, webhook.ConfigurationName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the webhook configuration: %v, want NotFound", err)
	}
	if out, _, err := m.c.KubectlContext(ctx, "get", "crd", "meshconfigs.config.openservicemesh.io"); err == nil {
		t.Errorf("the MeshConfig CRD is still there: %s", out)
	}
	m.sh.OK(t, "kubectl rollout restart deployment/bookwarehouse -n "+storeNS+" && kubectl rollout status deployment/bookwarehouse -n "+storeNS+" --timeout=2m")
	p := m.podOf(ctx, t, storeNS, "bookwarehouse")
	if err := injected(p); err == nil {
		t.Errorf("a pod created after the uninstall was injected")
	}
}
