package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/cli/values"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

// Defaults of osm install.
const (
	DefaultNamespace = "osm-system"
	DefaultMeshName  = "osm"
	DefaultTimeout   = 5 * time.Minute
)

// InstallOptions are the inputs of osm install.
type InstallOptions struct {
	// Chart is the chart to install (manifests.LoadChart gives the embedded one).
	Chart *chart.Chart
	// Namespace is the control-plane namespace, created when absent.
	Namespace string
	// MeshName names the mesh and its Helm release.
	MeshName string
	// Values are the chart values of the command line (--values/-f, --set, --set-string,
	// --set-file), merged by Helm as helm install merges them.
	Values values.Options
	// Wait waits until the release's objects are ready, at most Timeout.
	Wait    bool
	Timeout time.Duration
	// ProgressEvery is how often a waiting line is printed (default 5s).
	ProgressEvery time.Duration
	// Out receives progress and the result; Debug, when set, Helm's debug lines.
	Out   io.Writer
	Debug func(string, ...any)
}

// Install installs the embedded chart as a Helm release, after checking that the cluster is
// recent enough (CheckServerVersion) and that no mesh is installed anywhere in it.
func Install(ctx context.Context, c *kube.Clients, o InstallOptions) error {
	if err := validateNames(o.Namespace, o.MeshName); err != nil {
		return err
	}
	ch := o.Chart
	if ch == nil || ch.Metadata == nil {
		return fmt.Errorf("this osm binary carries no chart to install")
	}
	vals, err := Values(o.Values)
	if err != nil {
		return err
	}
	if v, ok := lookup(vals, "osm", "meshName"); ok && v != o.MeshName {
		return fmt.Errorf("osm.meshName=%v in the values differs from --mesh-name %s; name the mesh with --mesh-name only", v, o.MeshName)
	}
	setPath(vals, o.MeshName, "osm", "meshName")

	if err := CheckServerVersion(c.Kube.Discovery()); err != nil {
		return err
	}
	traces, notes := FindMeshes(ctx, c)
	for _, n := range notes {
		fmt.Fprintf(o.Out, "warning: %s\n", n)
	}
	if len(traces) > 0 {
		return AlreadyInstalledError(traces)
	}

	cfg, err := helmConfig(c.Getter, o.Namespace, o.Debug)
	if err != nil {
		return err
	}
	inst := action.NewInstall(cfg)
	inst.ReleaseName = o.MeshName
	inst.Namespace = o.Namespace
	inst.CreateNamespace = true
	inst.Timeout = o.Timeout
	inst.Description = "osm install"
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	fmt.Fprintf(o.Out, "Installing mesh %q (chart %s-%s) in namespace %s...\n",
		o.MeshName, ch.Metadata.Name, ch.Metadata.Version, o.Namespace)
	rel, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return fmt.Errorf("when installing chart %s as release %q in namespace %s: %w\n"+
			"Whatever was created is removed by: osm uninstall mesh --mesh-name %s --osm-namespace %s -y",
			ch.Metadata.Name, o.MeshName, o.Namespace, err, o.MeshName, o.Namespace)
	}
	if o.Wait {
		resources, err := cfg.KubeClient.Build(stringsReader(rel.Manifest), false)
		if err != nil {
			return fmt.Errorf("when reading the objects of release %q: %w", o.MeshName, err)
		}
		w := waiter{kube: c.Kube, out: o.Out, every: o.ProgressEvery}
		if err := w.wait(ctx, resources); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("still not ready after %s", o.Timeout)
			}
			return fmt.Errorf("mesh %q was installed in namespace %s but did not become ready: %w\n"+
				"Look at: kubectl get pods -n %s; kubectl describe pods -n %s. "+
				"Remove it with: osm uninstall mesh --mesh-name %s --osm-namespace %s -y",
				o.MeshName, o.Namespace, err, o.Namespace, o.Namespace, o.MeshName, o.Namespace)
		}
	}
	fmt.Fprintf(o.Out, "OSM installed successfully in namespace [%s] with mesh name [%s]\n", o.Namespace, o.MeshName)
	if rel.Info != nil && strings.TrimSpace(rel.Info.Notes) != "" {
		fmt.Fprintf(o.Out, "\n%s\n", strings.TrimSpace(rel.Info.Notes))
	}
	fmt.Fprintf(o.Out, "\nNext: add namespaces with 'osm namespace add NAMESPACE'; check tracing with 'osm tracing check'.\n")
	return nil
}

func validateNames(ns, mesh string) error {
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Errorf("--osm-namespace %q is not a valid namespace name: %s", ns, errs[0])
	}
	if errs := validation.IsDNS1123Label(mesh); len(errs) > 0 || len(mesh) > 53 {
		return fmt.Errorf("--mesh-name %q is not a valid mesh name: use at most 53 lower-case letters, digits and '-', "+
			"starting and ending with a letter or digit", mesh)
	}
	return nil
}
