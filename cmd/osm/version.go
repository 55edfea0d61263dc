package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/version"
)

func newVersionCmd() *cobra.Command {
	var clientOnly bool
	var ns string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of the osm CLI, of its chart's injector image and of the injector running in the cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "CLI Version: %s\n", version.Client())
			image, archive, err := version.InjectorImage()
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Chart Injector Image: %s\n", image)
			fmt.Fprintf(out, "Injector Image Archive: %s (make image)\n", archive)
			if clientOnly {
				return nil
			}
			c, err := clients(cmd)
			if err != nil {
				return err
			}
			desc, _, err := version.Injector(cmd.Context(), c.Kube, ns)
			if err != nil {
				return fmt.Errorf("%w (use --client for the CLI's version only)", err)
			}
			fmt.Fprintf(out, "Injector Version: %s\n", desc)
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print the CLI's and its chart's versions only (no cluster access)")
	cmd.Flags().StringVar(&ns, "osm-namespace", mesh.DefaultNamespace, "namespace of the control plane")
	return cmd
}
