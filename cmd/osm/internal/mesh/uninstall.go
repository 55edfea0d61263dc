package mesh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
	"github.com/osm-tracing/osm-tracing/webhook"
	"github.com/osm-tracing/osm-tracing/webhook/certs"
)

// UninstallOptions are the inputs of osm uninstall mesh.
type UninstallOptions struct {
	Namespace string
	MeshName  string
	// Force skips the confirmation.
	Force bool
	// DeleteCRDs also deletes the MeshConfig CRD (and with it every MeshConfig).
	DeleteCRDs bool
	// DeleteNamespace also deletes the control-plane namespace.
	DeleteNamespace bool
	Timeout         time.Duration
	In              io.Reader
	Out             io.Writer
	Debug           func(string, ...any)
}

// Uninstall removes the mesh's Helm release and the objects the injector made at run time
// (its webhook configuration and certificate Secret). Injected pods keep their sidecars and
// bootstrap ConfigMaps until they are re-created.
func Uninstall(ctx context.Context, c *kube.Clients, o UninstallOptions) error {
	cfg, err := helmConfig(c.Getter, o.Namespace, o.Debug)
	if err != nil {
		return err
	}
	if _, err := action.NewGet(cfg).Run(o.MeshName); err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return notFoundError(c, o)
		}
		return fmt.Errorf("when looking up release %q in namespace %s: %w", o.MeshName, o.Namespace, err)
	}
	if !o.Force {
		question := fmt.Sprintf("Uninstall OSM [mesh name: %s] in namespace [%s] and delete its objects", o.MeshName, o.Namespace)
		if o.DeleteCRDs {
			question += ", the MeshConfig CRD and every MeshConfig"
		}
		if o.DeleteNamespace {
			question += ", and the namespace " + o.Namespace
		}
		if !Confirm(o.In, o.Out, question+"?") {
			fmt.Fprintln(o.Out, "Nothing was uninstalled.")
			return nil
		}
	}
	// The webhook configuration goes first: from now on no pod waits for (or, with
	// failurePolicy Fail, is refused by) an injector that is going away. The injector does not
	// bring it back (webhook.ConfigReconciler); keepWebhooksGone checks that at the end.
	if err := deleteWebhooks(ctx, c, o, "Deleted"); err != nil {
		return err
	}
	un := action.NewUninstall(cfg)
	un.Timeout = o.Timeout
	un.Description = "osm uninstall mesh"
	if _, err := un.Run(o.MeshName); err != nil {
		return fmt.Errorf("when uninstalling release %q in namespace %s: %w", o.MeshName, o.Namespace, err)
	}
	fmt.Fprintf(o.Out, "Uninstalled Helm release %q from namespace %s.\n", o.MeshName, o.Namespace)
	if err := removeLeftovers(ctx, c, o); err != nil {
		return err
	}
	if err := keepWebhooksGone(ctx, c, o); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "OSM [mesh name: %s] uninstalled from namespace [%s].\n"+
		"Pods injected earlier keep their sidecars until they are re-created: drop the label with "+
		"'osm namespace remove NAMESPACE' and restart their workloads.\n", o.MeshName, o.Namespace)
	return nil
}

// removeLeftovers deletes what the injector created at run time and, when asked, the CRD and
// the namespace.
func removeLeftovers(ctx context.Context, c *kube.Clients, o UninstallOptions) error {
	del := func(what string, err error) error {
		switch {
		case err == nil:
			fmt.Fprintf(o.Out, "Deleted %s.\n", what)
		case apierrors.IsNotFound(err):
		default:
			return fmt.Errorf("when deleting %s: %w", what, err)
		}
		return nil
	}
	if err := deleteWebhooks(ctx, c, o, "Deleted"); err != nil {
		return err
	}
	// The release owns none of the certificate Secrets: the injector creates its own at run
	// time, and cert-manager keeps a Certificate's Secret when the Certificate goes.
	for _, name := range certificateSecrets {
		err := c.Kube.CoreV1().Secrets(o.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
		if err := del("Secret "+o.Namespace+"/"+name, err); err != nil {
			return err
		}
	}
	if o.DeleteCRDs {
		crds := c.Dynamic.Resource(crdResource)
		if err := del("CustomResourceDefinition "+kube.MeshConfigCRDName, crds.Delete(ctx, kube.MeshConfigCRDName, metav1.DeleteOptions{})); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(o.Out, "Kept the CRD %s (delete it, and every MeshConfig, with --delete-crds).\n", kube.MeshConfigCRDName)
	}
	if o.DeleteNamespace {
		if err := del("namespace "+o.Namespace, c.Kube.CoreV1().Namespaces().Delete(ctx, o.Namespace, metav1.DeleteOptions{})); err != nil {
			return err
		}
	}
	return nil
}

// deleteWebhooks deletes the mesh's webhook configurations: the one that calls this control
// plane's Service, or an outside injector (--webhook-url) when it carries this mesh's name. It
// reports each deletion as "<verb> MutatingWebhookConfiguration NAME.". It returns how many it
// deleted.
func deleteWebhooks(ctx context.Context, c *kube.Clients, o UninstallOptions, verb string) error {
	_, err := deleteWebhooksCount(ctx, c, o, verb)
	return err
}

func deleteWebhooksCount(ctx context.Context, c *kube.Clients, o UninstallOptions, verb string) (int, error) {
	hooks, err := kube.InjectorWebhooks(ctx, c.Kube)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hooks {
		owner := kube.WebhookControlPlane(&h)
		if owner != o.Namespace && (owner != "" || h.Labels["openservicemesh.io/mesh-name"] != o.MeshName) {
			continue
		}
		err := c.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, h.Name, metav1.DeleteOptions{})
		switch {
		case err == nil:
			n++
			fmt.Fprintf(o.Out, "%s MutatingWebhookConfiguration %s.\n", verb, h.Name)
		case apierrors.IsNotFound(err):
		default:
			return n, fmt.Errorf("when deleting MutatingWebhookConfiguration %s: %w", h.Name, err)
		}
	}
	return n, nil
}

// webhookSettle is how long the webhook configuration must stay gone, once no injector pod is
// left, for the uninstall to be done.
var webhookSettle = 2 * time.Second

// keepWebhooksGone waits until the injector's pods have gone (the Deployment went with the
// release; its replicas drain for a few seconds) and the webhook configuration has stayed
// gone for webhookSettle, deleting it again whenever it comes back: an injector of an older
// version, or one running outside the cluster, may still write it. A configuration that keeps
// coming back until the timeout is an error that says who writes it.
func keepWebhooksGone(ctx context.Context, c *kube.Clients, o UninstallOptions) error {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var quietSince time.Time
	pods := 0
	err := wait.PollUntilContextCancel(ctx, webhookPoll, true, func(ctx context.Context) (bool, error) {
		n, err := deleteWebhooksCount(ctx, c, o, "The webhook configuration came back (an injector still runs); deleted")
		if err != nil {
			return false, err
		}
		list, err := c.Kube.CoreV1().Pods(o.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=osm-injector"})
		if err != nil {
			return false, fmt.Errorf("when listing the injector's pods in %s: %w", o.Namespace, err)
		}
		pods = len(list.Items)
		if n > 0 || pods > 0 || quietSince.IsZero() {
			quietSince = time.Now()
		}
		return pods == 0 && time.Since(quietSince) >= webhookSettle, nil
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil:
		return err
	case pods > 0:
		return fmt.Errorf("%d osm-injector pods in %s are still there after %s; the webhook configuration is "+
			"deleted, run 'osm uninstall mesh' again once they are gone to check it stays so", pods, o.Namespace, timeout)
	}
	return fmt.Errorf("MutatingWebhookConfiguration %s keeps coming back after %s: an osm-injector still runs "+
		"(outside the cluster, or of another release); stop it and run 'osm uninstall mesh' again",
		webhook.ConfigurationName, timeout)
}

// webhookPoll is how often keepWebhooksGone looks.
const webhookPoll = 500 * time.Millisecond

// notFoundError says that no such mesh exists and names the meshes that do.
func notFoundError(c *kube.Clients, o UninstallOptions) error {
	msg := fmt.Sprintf("no mesh named %q is installed in namespace %s", o.MeshName, o.Namespace)
	rels, err := osmReleases(c, "")
	if err != nil || len(rels) == 0 {
		return fmt.Errorf("%s (osm install installs one; helm list -A shows the releases)", msg)
	}
	var found []string
	for _, r := range rels {
		found = append(found, fmt.Sprintf("osm uninstall mesh --mesh-name %s --osm-namespace %s", r.Name, r.Namespace))
	}
	return fmt.Errorf("%s; installed meshes are removed with: %s", msg, strings.Join(found, "; "))
}

// Confirm asks a yes/no question on out and reads the answer from in. Anything but y or yes
// (including no answer at all) is no.
func Confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "%s [y/N]: ", question)
	if in == nil {
		fmt.Fprintln(out)
		return false
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(out)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// certificateSecrets are the Secrets of the webhook certificate: the self-signed provider's,
// and the chart's cert-manager serving and CA Certificates' (manifests/charts/osm _helpers.tpl).
var certificateSecrets = []string{certs.DefaultSecretName, "osm-injector-cert-manager-tls", "osm-injector-ca"}
