package mesh

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/kube"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// pollInterval is how often readiness is checked.
const pollInterval = 2 * time.Second

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// waiter waits for a release's objects to be ready, printing what is not ready yet.
type waiter struct {
	kube  kubernetes.Interface
	out   io.Writer
	every time.Duration
}

func (w waiter) wait(ctx context.Context, resources []*resource.Info) error {
	every := w.every
	if every <= 0 {
		every = 5 * time.Second
	}
	checker := kube.NewReadyChecker(w.kube, nil, kube.PausedAsReady(true), kube.CheckJobs(true))
	began := time.Now()
	var lastLine string
	var lastPrint time.Time
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		pending := w.notReady(ctx, checker, resources)
		if len(pending) == 0 {
			return true, nil
		}
		line := WaitingLine(pending, len(resources))
		if line != lastLine || time.Since(lastPrint) >= every {
			fmt.Fprintf(w.out, "[%s] %s\n", time.Since(began).Round(time.Second), line)
			lastLine, lastPrint = line, time.Now()
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("%w; %s", err, lastLine)
	}
	fmt.Fprintf(w.out, "All %d objects are ready (%s).\n", len(resources), time.Since(began).Round(time.Second))
	return nil
}

// notReady describes each resource that is not ready, e.g. "Deployment osm-system/jaeger (0/1 ready)".
func (w waiter) notReady(ctx context.Context, checker kube.ReadyChecker, resources []*resource.Info) []string {
	var out []string
	for _, info := range resources {
		ready, err := checker.IsReady(ctx, info)
		if ready && err == nil {
			continue
		}
		desc := kindOf(info) + " " + info.Namespace + "/" + info.Name
		if info.Namespace == "" {
			desc = kindOf(info) + " " + info.Name
		}
		if detail := w.detail(ctx, info); detail != "" {
			desc += " (" + detail + ")"
		} else if err != nil {
			desc += " (" + err.Error() + ")"
		}
		out = append(out, desc)
	}
	sort.Strings(out)
	return out
}

func kindOf(info *resource.Info) string {
	if info.Mapping != nil {
		return info.Mapping.GroupVersionKind.Kind
	}
	return info.Object.GetObjectKind().GroupVersionKind().Kind
}

// detail adds the replica counts of workloads.
func (w waiter) detail(ctx context.Context, info *resource.Info) string {
	switch kindOf(info) {
	case bootstrap.KindDeployment:
		d, err := w.kube.AppsV1().Deployments(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil || d.Spec.Replicas == nil {
			return ""
		}
		return fmt.Sprintf("%d/%d ready", d.Status.ReadyReplicas, *d.Spec.Replicas)
	case bootstrap.KindStatefulSet:
		s, err := w.kube.AppsV1().StatefulSets(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil || s.Spec.Replicas == nil {
			return ""
		}
		return fmt.Sprintf("%d/%d ready", s.Status.ReadyReplicas, *s.Spec.Replicas)
	case bootstrap.KindDaemonSet:
		d, err := w.kube.AppsV1().DaemonSets(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return ""
		}
		return fmt.Sprintf("%d/%d ready", d.Status.NumberReady, d.Status.DesiredNumberScheduled)
	}
	return ""
}

// WaitingLine is the progress line for the objects not ready yet.
func WaitingLine(pending []string, total int) string {
	return fmt.Sprintf("waiting for %d of %d objects: %s", len(pending), total, strings.Join(pending, ", "))
}
