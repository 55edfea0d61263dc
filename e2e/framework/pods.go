package framework

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// stuckReasons are container waiting reasons that do not go away by waiting: a wait for
// Ready ends at once on them, with the message.
var stuckReasons = map[string]bool{
	"ErrImageNeverPull":          true,
	"InvalidImageName":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
}

// WaitPodReady waits until the Pod is Ready and returns it. It fails at once when the Pod
// ended or a container is stuck (an image that is not on the node, a crash loop), and a
// timeout's error carries the Pod's conditions, container states and recent events.
func (c *Cluster) WaitPodReady(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	var pod *corev1.Pod
	err := c.runner.waitFor(ctx, "pod "+namespace+"/"+name+" Ready", func(ctx context.Context) (bool, error) {
		p, err := c.Clientset.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, err
		}
		if err != nil {
			return false, fmt.Errorf("getting the pod: %w", err)
		}
		pod = p
		if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
			return false, fmt.Errorf("%w: the pod ended (%s): %s", errPermanent, p.Status.Phase, PodSummary(p))
		}
		for _, st := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if w := st.State.Waiting; w != nil && stuckReasons[w.Reason] {
				return false, fmt.Errorf("%w: container %s is stuck: %s", errPermanent, st.Name, PodSummary(p))
			}
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, fmt.Errorf("not Ready: %s", PodSummary(p))
	})
	if err != nil {
		return pod, fmt.Errorf("%w\nevents:\n%s", err, c.podEvents(namespace, name))
	}
	return pod, nil
}

// PodSummary is a one-line account of a Pod: phase, node, addresses, conditions and the
// state of each container.
func PodSummary(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s on %q", p.Status.Phase, p.Spec.NodeName)
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) > 0 {
		fmt.Fprintf(&b, ", IPs %s", strings.Join(ips, ","))
	}
	for _, cond := range p.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			fmt.Fprintf(&b, ", %s=%s", cond.Type, cond.Status)
			if cond.Message != "" {
				fmt.Fprintf(&b, " (%s)", cond.Message)
			}
		}
	}
	for _, st := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		switch {
		case st.State.Waiting != nil:
			fmt.Fprintf(&b, "; %s waiting: %s %s", st.Name, st.State.Waiting.Reason, st.State.Waiting.Message)
		case st.State.Terminated != nil:
			fmt.Fprintf(&b, "; %s terminated: %s (exit %d) %s", st.Name, st.State.Terminated.Reason,
				st.State.Terminated.ExitCode, st.State.Terminated.Message)
		case st.State.Running != nil:
			fmt.Fprintf(&b, "; %s running (ready %t, restarts %d)", st.Name, st.Ready, st.RestartCount)
		}
	}
	return b.String()
}

// podEvents is the Pod's events, oldest first, one a line (or why they cannot be listed).
func (c *Cluster) podEvents(namespace, name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), KubectlTimeout)
	defer cancel()
	list, err := c.Clientset.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.kind": "Pod", "involvedObject.name": name}.String(),
	})
	if err != nil {
		return fmt.Sprintf("(cannot list the events: %v)", err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return list.Items[i].LastTimestamp.Before(&list.Items[j].LastTimestamp)
	})
	var b strings.Builder
	for _, e := range list.Items {
		fmt.Fprintf(&b, "  %s %s %s: %s\n", e.LastTimestamp.Format("15:04:05"), e.Type, e.Reason, e.Message)
	}
	return b.String()
}

// Exec runs a command in a container of a Pod with kubectl exec, which goes through
// kube-apiserver, kubelet and containerd's streaming server: a real node only (kwok runs no
// container). err carries stderr when the command fails.
func (c *Cluster) Exec(ctx context.Context, namespace, pod, container string, cmd ...string) (stdout, stderr string, err error) {
	args := []string{"exec", "--namespace=" + namespace, pod}
	if container != "" {
		args = append(args, "--container="+container)
	}
	return c.KubectlContext(ctx, append(append(args, "--"), cmd...)...)
}
