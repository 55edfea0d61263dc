package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

const (
	rbControlPlane = bootstrap.DefaultNamespace
	rbMeshConfig   = bootstrap.DefaultMeshConfigName
)

// rbEnv is a cluster with the injector running in the test process and the re-bootstrap
// controller: inside the injector when its Run sets it up, else in a manager of the test's.
type rbEnv struct {
	t *testing.T
	*rbShared
}

// rbShared is what the subtests share.
type rbShared struct {
	root *testing.T
	c    *framework.Cluster
	cl   client.Client
	inj  *injector
	// inRun is set when the injector's Run runs the re-bootstrap controller itself.
	inRun bool
	own   *rbManager
	max   int

	osmOnce sync.Once
	osmBin  string
}

// osm returns a runner of the osm CLI against the cluster, built on first use.
func (e *rbEnv) osm() cliRunner {
	e.osmOnce.Do(func() { e.osmBin = cliBuild(e.root) })
	return cliRunner{t: e.t, bin: e.osmBin, kubeconfig: e.c.KubeconfigPath, home: e.root.TempDir()}
}

// sub is e for a subtest.
func (e *rbEnv) sub(t *testing.T) *rbEnv { return &rbEnv{t: t, rbShared: e.rbShared} }

// rbStart starts a kwok cluster, the MeshConfig CRD and instance (tracing on, to a collector
// in namespace observability, so that the guide's patch changes the address), the injector
// (failure policy Fail, so no pod slips through uninjected while it restarts) and the
// re-bootstrap controller with max concurrent rollouts.
func rbStart(t *testing.T, maxRollouts int) *rbEnv {
	t.Helper()
	c := framework.Start(t, framework.Options{Kwok: true})
	installMeshConfigCRD(t, c)
	cl, err := c.ControllerClient(rbScheme(t))
	if err != nil {
		t.Fatal(err)
	}
	e := &rbEnv{t: t, rbShared: &rbShared{root: t, c: c, cl: cl, max: maxRollouts}}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	createNamespace(ctx, t, c, rbControlPlane, nil)
	if _, _, err := kubectlApply(t, c, `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata:
  name: osm-mesh-config
  namespace: osm-system
spec:
  observability:
    tracing:
      enable: true
      address: jaeger.observability.svc.cluster.local
      port: 9411
      endpoint: /api/v2/spans
`); err != nil {
		t.Fatalf("creating the MeshConfig: %v", err)
	}
	createNamespace(ctx, t, c, "rb-probe", map[string]string{bootstrap.InjectionLabel: "enabled"})
	e.inj = rbInjector(t, c, maxRollouts)
	e.inj.waitReady(ctx, c, "rb-probe")
	e.inRun = e.controllerReports(ctx, 20*time.Second)
	if !e.inRun {
		t.Log("the injector's Run does not set up the re-bootstrap controller: running it in a manager of the test's")
		e.own = rbStartManager(t, c, maxRollouts)
	} else {
		t.Log("the injector's Run runs the re-bootstrap controller")
	}
	if !e.controllerReports(ctx, 2*time.Minute) {
		t.Fatalf("the re-bootstrap controller never wrote the MeshConfig status")
	}
	return e
}

// rbInjector starts the injector in the test process the way the shared e2e helper does,
// with max concurrent rollouts and failure policy Fail.
func rbInjector(t *testing.T, c *framework.Cluster, maxRollouts int) *injector {
	t.Helper()
	opts := injectorOptions(t, c)
	opts.FailurePolicy = "Fail"
	opts.MaxConcurrentRollouts = maxRollouts
	return runInjector(t, opts)
}

// controllerReports waits up to d for the MeshConfig status to carry a re-bootstrap report.
func (e *rbEnv) controllerReports(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if mc, err := e.meshConfig(ctx); err == nil && mc.Status.Rebootstrap != nil {
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return false
}

// restartController stops the controller, waits gap, and starts it again with maxRollouts.
func (e *rbEnv) restartController(ctx context.Context, maxRollouts int, gap time.Duration) {
	e.t.Helper()
	e.max = maxRollouts
	if e.inRun {
		e.inj.stop()
		time.Sleep(gap)
		e.inj.opts.MaxConcurrentRollouts = maxRollouts
		e.inj.start()
		root := e.inj.t
		e.inj.t = e.t // a failure to get ready fails this (sub)test
		defer func() { e.inj.t = root }()
		e.inj.waitReady(ctx, e.c, "rb-probe")
		return
	}
	e.own.stop()
	time.Sleep(gap)
	e.own = rbStartManager(e.root, e.c, maxRollouts)
}

// rbManager is a controller-runtime manager of the test's that runs only rebootstrap.Setup.
type rbManager struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
}

func rbStartManager(t *testing.T, c *framework.Cluster, maxRollouts int) *rbManager {
	t.Helper()
	mgr, err := ctrl.NewManager(c.RESTConfig, ctrl.Options{
		Scheme:                 rbScheme(t),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 ctrl.Log.WithName("rebootstrap-e2e"),
	})
	if err != nil {
		t.Fatalf("creating a manager: %v", err)
	}
	// The call osm-injector makes.
	err = rebootstrap.Setup(mgr, rebootstrap.Options{
		Namespace:      rbControlPlane,
		MeshConfigName: rbMeshConfig,
		MaxConcurrent:  maxRollouts,
		Defaults:       bootstrap.Defaults(rbControlPlane),
	})
	if err != nil {
		t.Fatalf("setting up the re-bootstrap controller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &rbManager{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	t.Cleanup(m.stop)
	return m
}

func (m *rbManager) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	select {
	case err := <-m.done:
		if err != nil {
			m.t.Errorf("the re-bootstrap manager ended with an error: %v", err)
		}
	case <-time.After(60 * time.Second):
		m.t.Errorf("the re-bootstrap manager did not stop within 60s")
	}
}

func (e *rbEnv) meshConfig(ctx context.Context) (*v1alpha2.MeshConfig, error) {
	mc := &v1alpha2.MeshConfig{}
	err := e.cl.Get(ctx, client.ObjectKey{Namespace: rbControlPlane, Name: rbMeshConfig}, mc)
	return mc, err
}

// patchTracing patches spec.observability.tracing as the user guide does.
func (e *rbEnv) patchTracing(tracing string) {
	e.t.Helper()
	patch := `{"spec":{"observability":{"tracing":` + tracing + `}}}`
	if _, _, err := e.c.Kubectl("patch", "meshconfig", rbMeshConfig, "-n", rbControlPlane, "-p", patch, "--type=merge"); err != nil {
		e.t.Fatalf("kubectl patch meshconfig: %v", err)
	}
}

// namespace creates a namespace labelled for injection, with annotations.
func (e *rbEnv) namespace(ctx context.Context, name string) {
	e.t.Helper()
	createNamespace(ctx, e.t, e.c, name, map[string]string{bootstrap.InjectionLabel: "enabled"})
}

// unlabel takes a namespace out of the mesh, so later MeshConfig changes leave it alone.
func (e *rbEnv) unlabel(name string) {
	e.t.Helper()
	if _, _, err := e.c.Kubectl("label", "namespace", name, bootstrap.InjectionLabel+"-"); err != nil {
		e.t.Fatalf("unlabelling namespace %s: %v", name, err)
	}
}

// rbDeployment is a one-replica Deployment app=name.
func rbDeployment(ns, name string, tplAnnotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: tplAnnotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "busybox", Command: []string{"sleep", "infinity"},
				}}},
			},
		},
	}
}

// create creates Deployments and waits until each is available with injected pods.
func (e *rbEnv) create(ctx context.Context, deps ...*appsv1.Deployment) {
	e.t.Helper()
	for _, d := range deps {
		if err := e.cl.Create(ctx, d); err != nil {
			e.t.Fatalf("creating Deployment %s/%s: %v", d.Namespace, d.Name, err)
		}
	}
	for _, d := range deps {
		e.waitComplete(ctx, d.Namespace, d.Name)
	}
}

// rbComplete is kubectl rollout status's notion of done, written independently of the
// controller's: the latest generation observed, every replica updated, ready, available,
// no old replica left.
func rbComplete(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	st := d.Status
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == want && st.Replicas == want &&
		st.ReadyReplicas == want && st.AvailableReplicas == want
}

func (e *rbEnv) deployment(ctx context.Context, ns, name string) *appsv1.Deployment {
	e.t.Helper()
	d := &appsv1.Deployment{}
	if err := e.cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		e.t.Fatalf("getting Deployment %s/%s: %v", ns, name, err)
	}
	return d
}

func (e *rbEnv) waitComplete(ctx context.Context, ns, name string) {
	e.t.Helper()
	framework.Eventually(ctx, e.t, "Deployment "+ns+"/"+name+" rolled out", func() error {
		d := &appsv1.Deployment{}
		if err := e.cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return err
		}
		if !rbComplete(d) {
			return fmt.Errorf("generation %d, status %+v", d.Generation, d.Status)
		}
		return e.podsOnOneHash(ctx, d)
	})
}

// podsOnOneHash checks that the Deployment's live pods are injected and share one hash.
func (e *rbEnv) podsOnOneHash(ctx context.Context, d *appsv1.Deployment) error {
	hashes, err := e.podHashes(ctx, d)
	if err != nil {
		return err
	}
	if len(hashes) != 1 || hashes[0] == "" {
		return fmt.Errorf("pods of %s run hashes %q", d.Name, hashes)
	}
	return nil
}

// podHashes lists the distinct bootstrap hashes of the Deployment's live pods ("" for an
// uninjected pod).
func (e *rbEnv) podHashes(ctx context.Context, d *appsv1.Deployment) ([]string, error) {
	pods := &corev1.PodList{}
	if err := e.cl.List(ctx, pods, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
		return nil, err
	}
	var hashes []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		if h := p.Labels[bootstrap.BootstrapHashKey]; !slices.Contains(hashes, h) {
			hashes = append(hashes, h)
		}
	}
	slices.Sort(hashes)
	return hashes, nil
}

// currentHash is the one hash the Deployment's pods run.
func (e *rbEnv) currentHash(ctx context.Context, ns, name string) string {
	e.t.Helper()
	hashes, err := e.podHashes(ctx, e.deployment(ctx, ns, name))
	if err != nil || len(hashes) != 1 {
		e.t.Fatalf("pods of %s/%s: hashes %q, %v", ns, name, hashes, err)
	}
	return hashes[0]
}

// bootstrapOf returns the bootstrap YAML a pod of the Deployment mounts.
func (e *rbEnv) bootstrapOf(ctx context.Context, ns, name string) string {
	e.t.Helper()
	pods := &corev1.PodList{}
	if err := e.cl.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": name}); err != nil {
		e.t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.ConfigMap == nil || !strings.HasPrefix(v.ConfigMap.Name, bootstrap.ConfigMapPrefix) {
				continue
			}
			cm := &corev1.ConfigMap{}
			if err := e.cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: v.ConfigMap.Name}, cm); err != nil {
				e.t.Fatalf("getting ConfigMap %s/%s: %v", ns, v.ConfigMap.Name, err)
			}
			if !strings.Contains(cm.Name, p.Labels[bootstrap.BootstrapHashKey]) {
				e.t.Errorf("pod %s with hash %s mounts ConfigMap %s", p.Name, p.Labels[bootstrap.BootstrapHashKey], cm.Name)
			}
			return cm.Data[bootstrap.BootstrapKey]
		}
	}
	e.t.Fatalf("no pod of %s/%s mounts a bootstrap ConfigMap", ns, name)
	return ""
}

// waitStatus waits until the MeshConfig status satisfies ok.
func (e *rbEnv) waitStatus(ctx context.Context, what string, ok func(*v1alpha2.MeshConfig) error) *v1alpha2.MeshConfig {
	e.t.Helper()
	var mc *v1alpha2.MeshConfig
	framework.Eventually(ctx, e.t, what, func() error {
		got, err := e.meshConfig(ctx)
		if err != nil {
			return err
		}
		if got.Status.Rebootstrap == nil {
			return fmt.Errorf("no re-bootstrap status yet")
		}
		if err := ok(got); err != nil {
			return fmt.Errorf("%w; status %s", err, rbStatusString(got))
		}
		mc = got
		return nil
	})
	return mc
}

// rbSettled is a status with nothing rolling, pending or failed for the current generation.
func rbSettled(mc *v1alpha2.MeshConfig) error {
	rb := mc.Status.Rebootstrap
	p := rbCondition(mc, rebootstrap.ConditionProgressing)
	switch {
	case mc.Status.ObservedGeneration != mc.Generation:
		return fmt.Errorf("observed generation %d of %d", mc.Status.ObservedGeneration, mc.Generation)
	case rb.Rolling+rb.Pending+rb.Failed != 0:
		return fmt.Errorf("not settled")
	case p == nil || p.Reason != rebootstrap.ReasonRolloutComplete:
		return fmt.Errorf("Progressing is %v", p)
	}
	return nil
}

func rbCondition(mc *v1alpha2.MeshConfig, t string) *metav1.Condition {
	for i := range mc.Status.Conditions {
		if mc.Status.Conditions[i].Type == t {
			return &mc.Status.Conditions[i]
		}
	}
	return nil
}

func rbStatusString(mc *v1alpha2.MeshConfig) string {
	rb := mc.Status.Rebootstrap
	s := fmt.Sprintf("target=%s workloads=%d updated=%d rolling=%d pending=%d failed=%d stale=%d optedOut=%d outdated=%d "+
		"invalid=%d uninjected=%d failed=%v stale=%v outdated=%v uninjected=%v",
		rb.Target, rb.Workloads, rb.Updated, rb.Rolling, rb.Pending, rb.Failed, rb.Stale, rb.OptedOut, rb.Outdated, rb.Invalid,
		rb.Uninjected, rb.FailedWorkloads, rb.StaleWorkloads, rb.OutdatedWorkloads, rb.UninjectedWorkloads)
	for _, c := range mc.Status.Conditions {
		s += fmt.Sprintf("; %s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

// events lists the reasons of the Events about an object (kind/namespace/name).
func (e *rbEnv) events(ctx context.Context, kind, ns, name string) []string {
	e.t.Helper()
	list, err := e.c.Clientset.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}.String(),
	})
	if err != nil {
		e.t.Fatalf("listing events: %v", err)
	}
	var reasons []string
	for _, ev := range list.Items {
		reasons = append(reasons, ev.Reason+": "+ev.Message)
	}
	return reasons
}

// waitEvent waits for an Event with reason about the object.
func (e *rbEnv) waitEvent(ctx context.Context, kind, ns, name, reason string) string {
	e.t.Helper()
	var found string
	framework.Eventually(ctx, e.t, "Event "+reason+" on "+kind+" "+ns+"/"+name, func() error {
		for _, r := range e.events(ctx, kind, ns, name) {
			if strings.HasPrefix(r, reason+": ") {
				found = r
				return nil
			}
		}
		return fmt.Errorf("not yet")
	})
	return found
}

// rbMetric reads a sample of the in-process metrics registry (0 when absent).
func rbMetric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// rbRolloutWatch records, from a watch of the Deployments in a namespace, how many roll at
// once: a Deployment rolls from the moment its generation passes the one recorded at the
// start until its rollout completes.
type rbRolloutWatch struct {
	mu      sync.Mutex
	base    map[string]int64
	rolling map[string]bool
	peak    int
	starts  []string
}

func (e *rbEnv) watchRollouts(ctx context.Context, ns string) *rbRolloutWatch {
	e.t.Helper()
	list := &appsv1.DeploymentList{}
	if err := e.cl.List(ctx, list, client.InNamespace(ns)); err != nil {
		e.t.Fatal(err)
	}
	w := &rbRolloutWatch{base: map[string]int64{}, rolling: map[string]bool{}}
	for _, d := range list.Items {
		w.base[d.Name] = d.Generation
	}
	lw := cache.NewListWatchFromClient(e.c.Clientset.AppsV1().RESTClient(), "deployments", ns, fields.Everything())
	_, inf := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &appsv1.Deployment{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { w.observe(obj) },
			UpdateFunc: func(_, obj any) { w.observe(obj) },
		},
	})
	go inf.RunWithContext(ctx)
	return w
}

func (w *rbRolloutWatch) observe(obj any) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	base, known := w.base[d.Name]
	now := known && d.Generation > base && !rbComplete(d)
	if now && !w.rolling[d.Name] {
		w.starts = append(w.starts, d.Name+"@"+strconv.FormatInt(d.Generation, 10))
	}
	w.rolling[d.Name] = now
	n := 0
	for _, r := range w.rolling {
		if r {
			n++
		}
	}
	w.peak = max(w.peak, n)
}

func (w *rbRolloutWatch) result() (peak int, starts []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, slices.Clone(w.starts)
}

// rbLogErrors logs the re-bootstrap controller's error lines from the injector logs (the
// shared buffer holds our manager's logs too): transient ones are expected (the API server
// refusing a write during a restart), a steady stream is a bug to look at.
func rbLogErrors(t *testing.T) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(injectorLogs.Tail(1<<22), "\n") {
		if strings.Contains(l, "ERROR") && strings.Contains(l, "rebootstrap") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		t.Logf("%d error lines of the re-bootstrap controller:\n%s", len(lines), strings.Join(lines[:min(len(lines), 30)], "\n"))
	}
}

func rbStatefulSet(ns, name string) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "busybox", Command: []string{"sleep", "infinity"},
				}}},
			},
		},
	}
	s.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("StatefulSet"))
	return s
}

func rbDaemonSet(ns, name string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "busybox", Command: []string{"sleep", "infinity"},
				}}},
			},
		},
	}
	ds.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("DaemonSet"))
	return ds
}

// waitKindComplete waits until the StatefulSet or DaemonSet is at generation gen, rolled out
// (as kubectl rollout status says), its pods on one hash, the stamp (once stamped) that
// hash; it returns the hash.
func (e *rbEnv) waitKindComplete(ctx context.Context, obj client.Object, gen int64) string {
	e.t.Helper()
	var hash string
	framework.Eventually(ctx, e.t, obj.GetName()+" rolled out at generation "+strconv.FormatInt(gen, 10), func() error {
		var done bool
		var tpl *corev1.PodTemplateSpec
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			if err := e.cl.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
			st := o.Status
			done = o.Generation == gen && st.ObservedGeneration >= gen && st.ReadyReplicas == 1 &&
				st.UpdatedReplicas == 1 && st.CurrentRevision == st.UpdateRevision
			tpl = &o.Spec.Template
		case *appsv1.DaemonSet:
			if err := e.cl.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
			st := o.Status
			done = o.Generation == gen && st.ObservedGeneration >= gen && st.DesiredNumberScheduled == 1 &&
				st.UpdatedNumberScheduled == 1 && st.NumberAvailable == 1
			tpl = &o.Spec.Template
		}
		if !done {
			return fmt.Errorf("not rolled out at generation %d", gen)
		}
		pods := &corev1.PodList{}
		if err := e.cl.List(ctx, pods, client.InNamespace(obj.GetNamespace()), client.MatchingLabels(tpl.Labels)); err != nil {
			return err
		}
		var hashes []string
		for _, p := range pods.Items {
			if h := p.Labels[bootstrap.BootstrapHashKey]; p.DeletionTimestamp == nil && !slices.Contains(hashes, h) {
				hashes = append(hashes, h)
			}
		}
		stamp := tpl.Annotations[bootstrap.BootstrapHashKey]
		if len(hashes) != 1 || hashes[0] == "" || (stamp != "" && stamp != hashes[0]) || (gen > 1) != (stamp != "") {
			return fmt.Errorf("pods on %q, stamp %q", hashes, stamp)
		}
		hash = hashes[0]
		return nil
	})
	return hash
}

// rbScheme is a new scheme with the built-in types and the MeshConfig.
func rbScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme, err := rebootstrap.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	return scheme
}
