package main

import (
	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
)

func newUninstallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Uninstall the osm-tracing control plane",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newUninstallMeshCmd())
	return cmd
}

func newUninstallMeshCmd() *cobra.Command {
	o := mesh.UninstallOptions{}
	cmd := &cobra.Command{
		Use:   "mesh",
		Short: "Uninstall the mesh: its Helm release and the injector's webhook configuration and certificate",
		Long: `Uninstall the mesh installed by 'osm install': the Helm release --mesh-name in --osm-namespace,
and what the injector created at run time (its MutatingWebhookConfiguration and certificate
Secret). The MeshConfig CRD is kept unless --delete-crds is given; the namespace is kept
unless --delete-namespace is given. Pods injected earlier keep their sidecars until they are
re-created.

Asks for confirmation first; no answer means no. -y/--force skips the question.`,
		Example: `  osm uninstall mesh
  osm uninstall mesh --mesh-name osm --osm-namespace osm-system -y`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := clients(cmd)
			if err != nil {
				return err
			}
			o.In, o.Out = cmd.InOrStdin(), cmd.OutOrStdout()
			return mesh.Uninstall(cmd.Context(), c, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Namespace, "osm-namespace", mesh.DefaultNamespace, "namespace of the control plane")
	f.StringVar(&o.MeshName, "mesh-name", mesh.DefaultMeshName, "name of the mesh (its Helm release)")
	f.BoolVarP(&o.Force, "force", "y", false, "uninstall without asking for confirmation")
	f.BoolVar(&o.DeleteCRDs, "delete-crds", false, "also delete the MeshConfig CRD, and with it every MeshConfig")
	f.BoolVar(&o.DeleteNamespace, "delete-namespace", false, "also delete the control-plane namespace")
	f.DurationVar(&o.Timeout, "timeout", mesh.DefaultTimeout, "how long to wait for the deletion")
	return cmd
}
