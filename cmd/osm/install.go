package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
	"github.com/osm-tracing/osm-tracing/manifests"
)

func newInstallCmd() *cobra.Command {
	o := mesh.InstallOptions{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the osm-tracing control plane (injector, MeshConfig, optional Jaeger)",
		Long: fmt.Sprintf(`Install the osm-tracing control plane in a cluster: the embedded Helm chart is installed as the
Helm release --mesh-name in the namespace --osm-namespace (created when absent). Values are
set and merged as with helm install: --values/-f FILE, --set key=value[,key=value...],
--set-string and --set-file (all repeatable; later ones win).

The cluster must run Kubernetes 1.%d or later (the MeshConfig CRD's validation rules and the
native Envoy sidecar need it): install checks the API server's version before anything else.
Only one mesh may be installed per cluster: install refuses when it finds one, and says how to
remove it.`, mesh.MinKubernetesMinor),
		Example: `  # Install with Jaeger and tracing on
  osm install --set=osm.deployJaeger=true,osm.tracing.enable=true

  # Install pointing at your own Zipkin collector
  osm install --set osm.tracing.enable=true,osm.tracing.address=jaeger.tracing.svc.cluster.local,osm.tracing.port=9411,osm.tracing.endpoint=/api/v2/spans`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clients(cmd)
			if err != nil {
				return err
			}
			ch, err := manifests.LoadChart()
			if err != nil {
				return err
			}
			o.Chart = ch
			o.Out = cmd.OutOrStdout()
			return mesh.Install(cmd.Context(), c, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.Values.ValueFiles, "values", "f", nil, "chart values from YAML files, or - for standard input (repeatable; later files win)")
	f.StringArrayVar(&o.Values.Values, "set", nil, "chart values on the command line: key=value[,key2=value2] (repeatable)")
	f.StringArrayVar(&o.Values.StringValues, "set-string", nil, "chart values kept as strings: key=value[,key2=value2] (repeatable)")
	f.StringArrayVar(&o.Values.FileValues, "set-file", nil, "chart values read from files: key=path[,key2=path2] (repeatable)")
	f.StringVar(&o.Namespace, "osm-namespace", mesh.DefaultNamespace, "namespace of the control plane (created when absent)")
	f.StringVar(&o.MeshName, "mesh-name", mesh.DefaultMeshName, "name of the mesh, and of its Helm release")
	f.BoolVar(&o.Wait, "wait", true, "wait until the control plane's objects are ready, printing what is not ready yet")
	f.DurationVar(&o.Timeout, "timeout", mesh.DefaultTimeout, "how long to wait for the installation")
	return cmd
}
