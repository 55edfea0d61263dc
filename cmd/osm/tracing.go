package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/check"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
)

func newTracingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tracing",
		Short: "Troubleshoot distributed tracing",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTracingCheckCmd())
	return cmd
}

func newTracingCheckCmd() *cobra.Command {
	o := check.Options{MeshConfigName: bootstrap.DefaultMeshConfigName}
	cmd := &cobra.Command{
		Use:   "check [POD]",
		Short: "Run the tracing troubleshooting steps and report each as PASS, FAIL, WARN or SKIP",
		Long: `Run the user guide's tracing troubleshooting steps against the cluster:

  1. the MeshConfig exists and has tracing enabled;
  2. its address, port and endpoint are valid, and an in-cluster address names a Service with that port;
  3. injected pods (POD, the pods of -n, or of every namespace in the mesh) mount a bootstrap with
     envoy-tracing-cluster and the MeshConfig's settings, and it is not stale;
  4. the Jaeger Service and Deployment (app=jaeger in --osm-namespace) exist and are ready;
  5. the Jaeger pod is Running and Ready (with its recent events when not);
  6. the injector's webhook configuration has a caBundle that verifies the injector's certificate;
  7. no pod of a namespace in the mesh runs without the sidecar;
  8. a test span posted to the in-cluster Jaeger can be read back through its query API.

Exits non-zero when any check fails.`,
		Example: `  osm tracing check
  osm tracing check -n bookbuyer
  osm tracing check -n bookbuyer bookbuyer-7d9c9c6c5d-8xq2z`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completePods(&o.Namespace, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := clients(cmd)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				o.Pod = args[0]
				o.Namespace = namespaceOr(cmd, o.Namespace)
			}
			s := check.Run(cmd.Context(), c, o, cmd.OutOrStdout())
			if s.Failed > 0 {
				cmd.SilenceUsage = true
				return fmt.Errorf("tracing check: %d of %d checks failed", s.Failed, s.Total)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Namespace, "namespace", "n", "", "check the pods of this namespace only (default: every namespace in the mesh)")
	f.StringVar(&o.ControlPlane, "osm-namespace", mesh.DefaultNamespace, "namespace of the control plane")
	f.DurationVar(&o.SpanTimeout, "span-timeout", 15*time.Second, "how long to look for the test span in Jaeger")
	registerNamespaceCompletion(cmd)
	return cmd
}
