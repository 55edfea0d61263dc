package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// mesh is the mesh the scenarios install on the node: the cluster, the osm CLI the test
// built, and a shell that runs commands as a user types them.
type mesh struct {
	c    *framework.Cluster
	cmds framework.Commands
	sh   *framework.Shell
}

// step runs one step as a subtest; the scenario stops at the first failed step, since the
// next ones build on it.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// event is one JSON line of the Envoy stand-in's log or of the test application's: the
// fields the scenarios read (see e2e/envoystandin and e2e/testapp for all of them).
type event struct {
	Time        time.Time `json:"time"`
	Event       string    `json:"event"`
	Listener    string    `json:"listener"`
	Peer        string    `json:"peer"`
	Local       string    `json:"local"`
	OriginalDst string    `json:"original_dst"`
	Signal      string    `json:"signal"`
	Path        string    `json:"path"`
	Status      int       `json:"status"`
	Service     string    `json:"service"`
	Collector   string    `json:"collector"`
	TraceID     string    `json:"trace_id"`
	RemoteAddr  string    `json:"remote_addr"`
	LocalAddr   string    `json:"local_addr"`
	Reason      string    `json:"reason"`
	Tracer      string    `json:"tracer"`
	GRPCStatus  string    `json:"grpc_status"`
	Name        string    `json:"name"`
}

func (e event) String() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// events reads the JSON lines of a container's log (kubectl logs), skipping other lines: the
// stand-in's access log lines (plain text, "[START_TIME] ...") among them.
func (m *mesh) events(ctx context.Context, t *testing.T, ns, pod, container string) []event {
	t.Helper()
	out, errOut, err := m.c.KubectlContext(ctx, "logs", "--namespace="+ns, pod, "--container="+container)
	if err != nil {
		t.Fatalf("kubectl logs %s/%s -c %s: %v: %s", ns, pod, container, err, errOut)
	}
	return parseEvents(out)
}

func parseEvents(log string) []event {
	var evs []event
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), []byte("{")) {
			continue
		}
		var e event
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event != "" {
			evs = append(evs, e)
		}
	}
	return evs
}

// connections are the stand-in's connection events on a listener to an original
// destination.
func connections(evs []event, listener, originalDst string) []event {
	var out []event
	for _, e := range evs {
		if e.Event == "connection" && e.Listener == listener && e.OriginalDst == originalDst {
			out = append(out, e)
		}
	}
	return out
}

// firstEvent is the first event of a kind, or an error naming what the log had.
func firstEvent(evs []event, kind string) (event, error) {
	for _, e := range evs {
		if e.Event == kind {
			return e, nil
		}
	}
	return event{}, fmt.Errorf("no %q event among %d", kind, len(evs))
}

// podOf is the one running pod of a workload (by its app label), waiting until there is
// exactly one, Ready, not being deleted.
func (m *mesh) podOf(ctx context.Context, t *testing.T, ns, app string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	framework.Eventually(ctx, t, "one Ready pod of "+ns+"/"+app, func() error {
		list, err := m.c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return err
		}
		var live []corev1.Pod
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				live = append(live, p)
			}
		}
		if len(live) != 1 {
			return fmt.Errorf("%d live pods", len(live))
		}
		if !podReady(&live[0]) {
			return fmt.Errorf("not Ready: %s", framework.PodSummary(&live[0]))
		}
		pod = &live[0]
		return nil
	})
	return pod
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// injected reports whether a pod has our sidecar: osm-init, then envoy as a native sidecar,
// first among the init containers.
func injected(p *corev1.Pod) error {
	var names []string
	for _, c := range p.Spec.InitContainers {
		names = append(names, c.Name)
	}
	i := slices.Index(names, inject.InitContainerName)
	j := slices.Index(names, inject.EnvoyContainerName)
	switch {
	case i < 0 || j < 0:
		return fmt.Errorf("pod %s/%s is not injected: init containers %v", p.Namespace, p.Name, names)
	case i != 0 || j != 1:
		return fmt.Errorf("pod %s/%s: osm-init and envoy are not the first init containers: %v", p.Namespace, p.Name, names)
	}
	rp := p.Spec.InitContainers[j].RestartPolicy
	if rp == nil || *rp != corev1.ContainerRestartPolicyAlways {
		return fmt.Errorf("pod %s/%s: envoy is not a native sidecar (restartPolicy %v)", p.Namespace, p.Name, rp)
	}
	return nil
}

// podIP is the pod's address of one family ("" when it has none).
func podIP(p *corev1.Pod, v6 bool) string {
	for _, ip := range p.Status.PodIPs {
		if strings.Contains(ip.IP, ":") == v6 {
			return ip.IP
		}
	}
	return ""
}

// errNotYet marks a condition that has not come true yet.
var errNotYet = errors.New("not yet")
