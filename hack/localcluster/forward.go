package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/envoystandin"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// Jaeger's ports in a pod: the Zipkin receiver and the query API (and UI).
const (
	jaegerZipkinPort = 9411
	jaegerQueryPort  = 16686
)

var portForwards = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "portforwards"}

// forwarder keeps kwok PortForwards for the pods that need one: Jaeger pods to the real
// Jaeger, injected pods to an Envoy admin stand-in.
type forwarder struct {
	c        *framework.Cluster
	o        options
	jaeger   labels.Selector
	zipkin   int32
	query    int32
	forwards map[types.UID]podRef      // pods that have a PortForward
	standIns map[types.UID]*standInPod // injected pods and their stand-ins
}

type podRef struct{ namespace, name string }

type standInPod struct {
	podRef
	srv *envoystandin.Server
}

func newForwarder(c *framework.Cluster, j *framework.Jaeger, o options) (*forwarder, error) {
	f := &forwarder{c: c, o: o, forwards: map[types.UID]podRef{}, standIns: map[types.UID]*standInPod{}}
	if j != nil {
		sel, err := labels.Parse(o.jaegerSelector)
		if err != nil {
			return nil, fmt.Errorf("--jaeger-selector %q: %w", o.jaegerSelector, err)
		}
		f.jaeger = sel
		if f.zipkin, err = portOf(j.ZipkinURL); err != nil {
			return nil, err
		}
		if f.query, err = portOf(j.QueryURL); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func portOf(rawURL string) (int32, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, fmt.Errorf("when parsing %q: %w", rawURL, err)
	}
	_, p, err := net.SplitHostPort(u.Host)
	if err != nil {
		return 0, fmt.Errorf("when parsing %q: %w", rawURL, err)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("when parsing the port of %q: %w", rawURL, err)
	}
	return int32(n), nil
}

// run looks at the pods every poll interval until ctx ends.
func (f *forwarder) run(ctx context.Context) error {
	wait.UntilWithContext(ctx, f.sync, f.o.poll)
	return nil
}

// sync adds what new pods need and removes what gone pods had. Errors are logged and retried
// on the next round.
func (f *forwarder) sync(ctx context.Context) {
	if f.jaeger == nil && !f.o.envoyStandIn {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pods, err := f.c.Clientset.CoreV1().Pods(metav1.NamespaceAll).List(lctx, metav1.ListOptions{})
	if err != nil {
		if ctx.Err() == nil {
			log.Printf("listing pods: %v", err)
		}
		return
	}
	live := map[types.UID]bool{}
	for i := range pods.Items {
		p := &pods.Items[i]
		live[p.UID] = true
		if p.Spec.NodeName == "" {
			continue // kwok answers for scheduled pods only
		}
		if f.jaeger != nil && f.jaeger.Matches(labels.Set(p.Labels)) {
			f.forwardJaeger(lctx, p)
		}
		if f.o.envoyStandIn && hasEnvoy(p) {
			f.forwardStandIn(lctx, p)
		}
	}
	for uid, s := range f.standIns {
		if !live[uid] {
			_ = s.srv.Close()
			delete(f.standIns, uid)
			log.Printf("pod %s/%s is gone: its Envoy admin stand-in is stopped", s.namespace, s.name)
		}
	}
	for uid, ref := range f.forwards {
		if !live[uid] {
			err := f.c.Dynamic().Resource(portForwards).Namespace(ref.namespace).Delete(lctx, ref.name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				log.Printf("deleting PortForward %s/%s: %v", ref.namespace, ref.name, err)
				continue
			}
			delete(f.forwards, uid)
		}
	}
}

func (f *forwarder) forwardJaeger(ctx context.Context, p *corev1.Pod) {
	if _, done := f.forwards[p.UID]; done {
		return
	}
	for podPort, target := range map[int32]int32{jaegerZipkinPort: f.zipkin, jaegerQueryPort: f.query} {
		if err := f.c.AddPortForward(ctx, framework.PortForward{Namespace: p.Namespace, Pod: p.Name,
			PodPort: podPort, TargetPort: target}); err != nil {
			log.Printf("forwarding pod %s/%s port %d: %v", p.Namespace, p.Name, podPort, err)
			return
		}
	}
	f.forwards[p.UID] = podRef{p.Namespace, p.Name}
	log.Printf("pod %s/%s: ports %d and %d reach the local Jaeger (127.0.0.1:%d and 127.0.0.1:%d)",
		p.Namespace, p.Name, jaegerZipkinPort, jaegerQueryPort, f.zipkin, f.query)
}

func (f *forwarder) forwardStandIn(ctx context.Context, p *corev1.Pod) {
	if _, done := f.standIns[p.UID]; done {
		return
	}
	cmName := bootstrapConfigMap(p)
	if cmName == "" {
		return
	}
	cm, err := f.c.Clientset.CoreV1().ConfigMaps(p.Namespace).Get(ctx, cmName, metav1.GetOptions{})
	if err != nil {
		log.Printf("pod %s/%s: reading its bootstrap ConfigMap %s: %v", p.Namespace, p.Name, cmName, err)
		return
	}
	h, err := envoystandin.NewHandler([]byte(cm.Data[bootstrap.BootstrapKey]), p.CreationTimestamp.Time)
	if err != nil {
		log.Printf("pod %s/%s: %v", p.Namespace, p.Name, err)
		return
	}
	srv, err := envoystandin.Start(h)
	if err != nil {
		log.Printf("pod %s/%s: %v", p.Namespace, p.Name, err)
		return
	}
	if err := f.c.AddPortForward(ctx, framework.PortForward{Namespace: p.Namespace, Pod: p.Name,
		PodPort: bootstrap.AdminPort, TargetPort: int32(srv.Port)}); err != nil { //nolint:gosec // G115: a TCP port.
		_ = srv.Close()
		log.Printf("forwarding pod %s/%s port %d: %v", p.Namespace, p.Name, bootstrap.AdminPort, err)
		return
	}
	ref := podRef{p.Namespace, p.Name}
	f.standIns[p.UID] = &standInPod{podRef: ref, srv: srv}
	f.forwards[p.UID] = ref
	log.Printf("pod %s/%s: port %d reaches an Envoy admin STAND-IN on %s serving ConfigMap %s (not Envoy)",
		p.Namespace, p.Name, bootstrap.AdminPort, srv.Addr, cmName)
}

// close stops every stand-in.
func (f *forwarder) close() {
	for uid, s := range f.standIns {
		_ = s.srv.Close()
		delete(f.standIns, uid)
	}
}

func hasEnvoy(p *corev1.Pod) bool {
	return inject.Sidecar(&p.Spec) != nil
}

// bootstrapConfigMap is the name of the bootstrap ConfigMap the pod mounts, or "".
func bootstrapConfigMap(p *corev1.Pod) string {
	for _, v := range p.Spec.Volumes {
		if v.Name == inject.BootstrapVolumeName && v.ConfigMap != nil {
			return v.ConfigMap.Name
		}
	}
	return ""
}
