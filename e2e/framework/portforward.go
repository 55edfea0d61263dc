package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PortForward makes kwok answer a port-forward to a Pod's port by connecting to a local
// address instead: `kubectl port-forward pod/NAME PODPORT` (or client-go's portforward)
// then reaches a process the test runs on the host. It becomes a kwok.x-k8s.io/v1alpha1
// PortForward object named after the Pod.
type PortForward struct {
	// Namespace and Pod name the Pod. The Pod need not exist yet.
	Namespace string
	Pod       string
	// PodPort is the Pod's port that clients forward to.
	PodPort int32
	// TargetAddress is where kwok connects; it must be a loopback address (default 127.0.0.1).
	TargetAddress string
	// TargetPort is the local port kwok connects to.
	TargetPort int32
}

var portForwardResource = schema.GroupVersionResource{
	Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "portforwards",
}

func (pf PortForward) validate() error {
	if pf.Namespace == "" || pf.Pod == "" {
		return errors.New("a PortForward needs Namespace and Pod")
	}
	if pf.PodPort <= 0 || pf.PodPort > 65535 || pf.TargetPort <= 0 || pf.TargetPort > 65535 {
		return fmt.Errorf("PortForward %s/%s: ports must be in 1..65535, got pod port %d, target port %d",
			pf.Namespace, pf.Pod, pf.PodPort, pf.TargetPort)
	}
	if ip := net.ParseIP(pf.target()); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("PortForward %s/%s: target address %q is not a loopback IP; tests may only "+
			"reach this machine", pf.Namespace, pf.Pod, pf.TargetAddress)
	}
	return nil
}

func (pf PortForward) target() string {
	if pf.TargetAddress == "" {
		return loopbackHost
	}
	return pf.TargetAddress
}

func (pf PortForward) forward() map[string]any {
	return map[string]any{
		"ports":  []any{int64(pf.PodPort)},
		"target": map[string]any{"address": pf.target(), "port": int64(pf.TargetPort)},
	}
}

// AddPortForward adds (or replaces, for the same Pod port) a kwok port forward. kwok watches
// these objects, so this works while the cluster runs; kwok sees the change a moment later,
// so retry the first connection. It needs Options.Kwok.
func (c *Cluster) AddPortForward(ctx context.Context, pf PortForward) error {
	if c.dynamic == nil || !c.kwok {
		return errors.New("AddPortForward needs a cluster started with Options.Kwok")
	}
	if err := pf.validate(); err != nil {
		return err
	}
	client := c.dynamic.Resource(portForwardResource).Namespace(pf.Namespace)
	obj, err := client.Get(ctx, pf.Pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj = &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1",
			"kind":       "PortForward",
			"metadata":   map[string]any{"name": pf.Pod, "namespace": pf.Namespace},
			"spec":       map[string]any{"forwards": []any{pf.forward()}},
		}}
		if _, err := client.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("when creating PortForward %s/%s: %w", pf.Namespace, pf.Pod, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("when getting PortForward %s/%s: %w", pf.Namespace, pf.Pod, err)
	}
	forwards, _, err := unstructured.NestedSlice(obj.Object, "spec", "forwards")
	if err != nil {
		return fmt.Errorf("when reading PortForward %s/%s: %w", pf.Namespace, pf.Pod, err)
	}
	kept := []any{pf.forward()}
	for _, f := range forwards {
		if !forwardsPort(f, pf.PodPort) {
			kept = append(kept, f)
		}
	}
	if err := unstructured.SetNestedSlice(obj.Object, kept, "spec", "forwards"); err != nil {
		return fmt.Errorf("when updating PortForward %s/%s: %w", pf.Namespace, pf.Pod, err)
	}
	if _, err := client.Update(ctx, obj, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("when updating PortForward %s/%s: %w", pf.Namespace, pf.Pod, err)
	}
	return nil
}

// forwardsPort reports whether a forwards entry covers exactly the given port.
func forwardsPort(f any, port int32) bool {
	m, ok := f.(map[string]any)
	if !ok {
		return false
	}
	ports, ok := m["ports"].([]any)
	if !ok || len(ports) != 1 {
		return false
	}
	p, ok := ports[0].(int64)
	return ok && p == int64(port)
}

// ForwardPort forwards a free local port on 127.0.0.1 to a Pod's port through the API server,
// as kubectl port-forward does (client-go's portforward over SPDY). It returns the local
// address; the forward ends when stop is called or the test ends.
func (c *Cluster) ForwardPort(ctx context.Context, namespace, pod string, podPort int) (addr string, stop func(), err error) {
	transport, upgrader, err := spdy.RoundTripperFor(c.RESTConfig)
	if err != nil {
		return "", nil, fmt.Errorf("when making the SPDY transport: %w", err)
	}
	url := c.Clientset.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stopCh := make(chan struct{})
	readyCh := make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{loopbackHost},
		[]string{"0:" + strconv.Itoa(podPort)}, stopCh, readyCh, io.Discard, io.Discard)
	if err != nil {
		return "", nil, fmt.Errorf("when setting up a port-forward to %s/%s:%d: %w", namespace, pod, podPort, err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- fw.ForwardPorts() }()
	var once sync.Once
	stop = func() { once.Do(func() { close(stopCh) }) }
	c.t.Cleanup(stop)
	select {
	case <-readyCh:
	case err := <-errCh:
		stop()
		return "", nil, fmt.Errorf("when port-forwarding to %s/%s:%d: %w", namespace, pod, podPort, err)
	case <-ctx.Done():
		stop()
		return "", nil, fmt.Errorf("when port-forwarding to %s/%s:%d: %w", namespace, pod, podPort, ctx.Err())
	}
	ports, err := fw.GetPorts()
	if err == nil && len(ports) == 0 {
		err = errors.New("no port is listening")
	}
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("when reading the local port of the forward to %s/%s:%d: %w",
			namespace, pod, podPort, err)
	}
	return hostPort(int(ports[0].Local)), stop, nil
}
