package main

import (
	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/namespaces"
)

func newNamespaceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "namespace",
		Aliases: []string{"ns"},
		Short:   "Add namespaces to the mesh, remove them, list them",
		Long: `A namespace is in the mesh when it is labelled openservicemesh.io/sidecar-injection=enabled: the
pods created in it afterwards get the Envoy sidecar. Running pods are injected when they are
re-created (kubectl rollout restart).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var controlPlane string
	cmd.PersistentFlags().StringVar(&controlPlane, "osm-namespace", mesh.DefaultNamespace,
		"namespace of the control plane (never injected)")
	cmd.AddCommand(
		&cobra.Command{
			Use:               "add NAMESPACE...",
			Short:             "Label namespaces for sidecar injection",
			Example:           "  osm namespace add bookstore bookbuyer",
			Args:              cobra.MinimumNArgs(1),
			ValidArgsFunction: completeNamespaces,
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := clients(cmd)
				if err != nil {
					return err
				}
				return namespaces.Add(cmd.Context(), c.Kube, controlPlane, args, cmd.OutOrStdout())
			},
		},
		&cobra.Command{
			Use:               "remove NAMESPACE...",
			Aliases:           []string{"rm"},
			Short:             "Drop the sidecar-injection label of namespaces",
			Args:              cobra.MinimumNArgs(1),
			ValidArgsFunction: completeNamespaces,
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := clients(cmd)
				if err != nil {
					return err
				}
				return namespaces.Remove(cmd.Context(), c.Kube, controlPlane, args, cmd.OutOrStdout())
			},
		},
		&cobra.Command{
			Use:     "list",
			Aliases: []string{"ls"},
			Short:   "List the namespaces in the mesh",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := clients(cmd)
				if err != nil {
					return err
				}
				entries, err := namespaces.List(cmd.Context(), c.Kube, controlPlane)
				if err != nil {
					return err
				}
				return namespaces.Print(cmd.OutOrStdout(), entries)
			},
		},
	)
	return cmd
}
