package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/check"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/rollout"
)

func newTracingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tracing",
		Short: "Troubleshoot distributed tracing",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTracingCheckCmd(), newTracingPlanCmd())
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

func newTracingPlanCmd() *cobra.Command {
	var patch, file, controlPlane, meshConfig, output string
	cmd := &cobra.Command{
		Use:   "plan (-p PATCH | -f MESHCONFIG)",
		Short: "Preview which workloads a MeshConfig change would roll, without changing anything",
		Long: `Preview a MeshConfig change: read the cluster (the MeshConfig, namespaces, workloads and pods),
apply the change in memory only, validate it as the re-bootstrap controller does, and run the
controller's own planner on it. Nothing is written to the cluster.

The change is either -p, a JSON merge patch of the MeshConfig (what kubectl patch --type=merge -p
takes), or -f, a MeshConfig manifest whose spec replaces the current one (decoded strictly).

Each injected workload gets one verdict:
  roll            the controller would stamp it and it rolls
  unchanged       the change leaves the mesh's effective tracing settings as they are
  pinned          its annotations (pod template or namespace) pin every field the change touches
  opted-out       annotated tracing.openservicemesh.io/auto-rebootstrap: "false"
  outdated        runs its settings rendered by another osm-injector version; rolled only when asked
  blocked         a paused Deployment or the OnDelete strategy: stamping would not roll it
  failing-target  its settings cannot be resolved (a malformed annotation)
  rolling/failed  already rolling (or failed) to a target the change does not move
Then the order rollouts would start in, the bound on rollouts at once (--max-concurrent-rollouts of
the injector's Deployment, else the injector's default), and the bare pods that would be stale.`,
		Example: `  osm tracing plan -p '{"spec":{"observability":{"tracing":{"sampling":40}}}}'
  osm tracing plan -f meshconfig.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (patch == "") == (file == "") {
				return fmt.Errorf("give the change with exactly one of -p PATCH (a JSON merge patch of the MeshConfig) or -f FILE (a MeshConfig manifest)")
			}
			if output != "" && output != "text" && output != "json" {
				return fmt.Errorf("-o %q: accepted values are text and json", output)
			}
			edit := rollout.MergePatchEdit("-p", []byte(patch))
			if file != "" {
				data, err := os.ReadFile(file) //nolint:gosec // G304: reading the file the user names is the command's job
				if err != nil {
					return fmt.Errorf("-f: %w", err)
				}
				edit = rollout.SpecFileEdit(file, data)
			}
			cl, err := rolloutClient(cmd)
			if err != nil {
				return err
			}
			p, err := rollout.PreviewChange(cmd.Context(), cl, controlPlane, meshConfig, edit)
			if err != nil {
				return err
			}
			if output == "json" {
				return rollout.PrintPreviewJSON(cmd.OutOrStdout(), p)
			}
			return rollout.PrintPreview(cmd.OutOrStdout(), p)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&patch, "patch", "p", "", "the change, as a JSON merge patch of the MeshConfig object")
	f.StringVarP(&file, "filename", "f", "", "the change, as a MeshConfig manifest whose spec replaces the current one")
	f.StringVar(&controlPlane, "osm-namespace", mesh.DefaultNamespace, "namespace of the control plane")
	f.StringVar(&meshConfig, "mesh-config-name", bootstrap.DefaultMeshConfigName, "name of the MeshConfig")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
