package e2e

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/e2e/framework"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// checkHealAfterOutage is the outage users of failurePolicy Ignore meet: with the injector
// stopped, a Deployment of a labelled namespace gets pods without the sidecar; once the
// injector (the real osm-injector, its caBundle check included) is back, it rolls that
// Deployment and the new pod is injected.
func checkHealAfterOutage(ctx context.Context, t *testing.T, c *framework.Cluster, in *injector) {
	const ns, name = "bookstore", "outage"
	in.stop()
	d := rbDeployment(ns, name, nil)
	if _, err := c.Clientset.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Deployment %s/%s: %v", ns, name, err)
	}
	selector := metav1.FormatLabelSelector(d.Spec.Selector)
	framework.Eventually(ctx, t, "a pod of the Deployment admitted without the sidecar", func() error {
		pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		for i := range pods.Items {
			if inject.Sidecar(&pods.Items[i].Spec) != nil {
				return errorf("pod %s has the sidecar: the injector is still answering", pods.Items[i].Name)
			}
		}
		if len(pods.Items) == 0 {
			return errorf("no pod yet")
		}
		return nil
	})

	began := time.Now()
	in.start()
	in.waitReady(ctx, c, ns)
	framework.Eventually(ctx, t, "the Deployment healed: stamped and a new pod injected", func() error {
		got, err := c.Clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		tpl := got.Spec.Template.Annotations
		if tpl[bootstrap.BootstrapHashKey] == "" || tpl[rebootstrap.HealAnnotation] == "" {
			return errorf("template annotations %v: not stamped by a heal yet", tpl)
		}
		pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; inject.Sidecar(&p.Spec) != nil && p.Labels[bootstrap.BootstrapHashKey] == tpl[bootstrap.BootstrapHashKey] {
				return nil
			}
		}
		return errorf("no injected pod of the stamped template yet (%d pods)", len(pods.Items))
	})
	t.Logf("healed %s after the injector started again", time.Since(began).Round(100*time.Millisecond))
	if err := c.Clientset.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting Deployment %s/%s: %v", ns, name, err)
	}
}
