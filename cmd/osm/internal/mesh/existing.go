package mesh

import (
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
)

// ChartName is the name of the chart osm install installs.
const ChartName = "osm"

// Trace is one sign that a mesh is installed.
type Trace struct {
	// What it is, e.g. `Helm release "osm" (chart osm-0.1.0, deployed)`.
	What string
	// Namespace where it is; "" for cluster-scoped objects.
	Namespace string
	// Release names the Helm release when the trace is one.
	Release string
}

func (t Trace) String() string {
	if t.Namespace == "" {
		return t.What
	}
	return t.What + " in namespace " + t.Namespace
}

// allReleaseStates are the states in which a release still holds objects.
const allReleaseStates = action.ListDeployed | action.ListFailed | action.ListPendingInstall |
	action.ListPendingUpgrade | action.ListPendingRollback | action.ListUninstalling | action.ListUnknown

// FindMeshes looks for an installed mesh anywhere in the cluster: Helm releases of the osm
// chart in any namespace, MeshConfigs in any namespace and the injector's webhook
// configuration. Where it may not look (RBAC), it says so in the returned notes.
func FindMeshes(ctx context.Context, c *kube.Clients) (traces []Trace, notes []string) {
	rels, err := osmReleases(c, "")
	if err != nil {
		notes = append(notes, "could not list Helm releases in every namespace: "+err.Error())
	}
	for _, r := range rels {
		traces = append(traces, releaseTrace(r))
	}
	mcs, err := kube.ListMeshConfigs(ctx, c.Dynamic)
	if err != nil {
		notes = append(notes, "could not list MeshConfigs: "+err.Error())
	}
	for _, mc := range mcs {
		traces = append(traces, Trace{What: "MeshConfig " + mc.Name, Namespace: mc.Namespace})
	}
	hooks, err := kube.InjectorWebhooks(ctx, c.Kube)
	if err != nil {
		notes = append(notes, "could not look for the injector's webhook: "+err.Error())
	}
	for _, h := range hooks {
		traces = append(traces, Trace{What: "MutatingWebhookConfiguration " + h.Name})
	}
	return traces, notes
}

// osmReleases lists the releases of the osm chart in ns ("" for all namespaces).
func osmReleases(c *kube.Clients, ns string) ([]*release.Release, error) {
	cfg, err := helmConfig(c.Getter, ns, nil)
	if err != nil {
		return nil, err
	}
	list := action.NewList(cfg)
	list.AllNamespaces = ns == ""
	list.All = true
	list.StateMask = allReleaseStates
	rels, err := list.Run()
	if err != nil {
		return nil, err
	}
	var out []*release.Release
	for _, r := range rels {
		if r.Chart != nil && r.Chart.Metadata != nil && r.Chart.Metadata.Name == ChartName {
			out = append(out, r)
		}
	}
	return out, nil
}

func releaseTrace(r *release.Release) Trace {
	what := fmt.Sprintf("Helm release %q", r.Name)
	var details []string
	if r.Chart != nil && r.Chart.Metadata != nil {
		details = append(details, "chart "+r.Chart.Metadata.Name+"-"+r.Chart.Metadata.Version)
	}
	if r.Info != nil && r.Info.Status != "" {
		details = append(details, r.Info.Status.String())
	}
	if len(details) > 0 {
		what += " (" + strings.Join(details, ", ") + ")"
	}
	return Trace{What: what, Namespace: r.Namespace, Release: r.Name}
}

// AlreadyInstalledError explains that a mesh is installed and how to remove it.
func AlreadyInstalledError(traces []Trace) error {
	var b strings.Builder
	b.WriteString("a mesh is already installed in this cluster; only one mesh per cluster is supported. Found:")
	for _, t := range traces {
		b.WriteString("\n  - " + t.String())
	}
	b.WriteString("\n" + uninstallHint(traces))
	return fmt.Errorf("%s", b.String())
}

// uninstallHint says how to remove what traces show.
func uninstallHint(traces []Trace) string {
	for _, t := range traces {
		if t.Release != "" {
			return fmt.Sprintf("Remove it first with: osm uninstall mesh --mesh-name %s --osm-namespace %s",
				t.Release, t.Namespace)
		}
	}
	var cmds []string
	for _, t := range traces {
		switch {
		case strings.HasPrefix(t.What, "MeshConfig "):
			cmds = append(cmds, fmt.Sprintf("kubectl delete meshconfig -n %s %s", t.Namespace,
				strings.TrimPrefix(t.What, "MeshConfig ")))
		case strings.HasPrefix(t.What, "MutatingWebhookConfiguration "):
			cmds = append(cmds, "kubectl delete mutatingwebhookconfiguration "+
				strings.TrimPrefix(t.What, "MutatingWebhookConfiguration "))
		}
	}
	return "No Helm release owns these objects (left by an earlier install?). If no mesh runs, delete them: " +
		strings.Join(cmds, "; ")
}
