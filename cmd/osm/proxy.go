package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/check"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/mesh"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/proxy"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/rollout"
)

func newProxyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Read the configuration of a pod's Envoy sidecar",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newProxyGetCmd(), newProxyBootstrapCmd(), newProxyRolloutCmd())
	return cmd
}

func newProxyGetCmd() *cobra.Command {
	var ns, file string
	cmd := &cobra.Command{
		Use:   "get QUERY POD",
		Short: "Get any Envoy admin path (config_dump, clusters, stats, ready, ...) of a pod's sidecar",
		Long: `Get an Envoy admin path of the sidecar of POD, through a port-forward to its admin port 15000
(as kubectl port-forward does; Envoy's admin listens on the pod's loopback). QUERY is the path,
with an optional query string: config_dump, clusters, listeners, stats?filter=tracing, ready,
server_info, ...`,
		Example: `  # The guide's troubleshooting step 3: look for envoy-tracing-cluster
  osm proxy get config_dump -n bookbuyer bookbuyer-7d9c9c6c5d-8xq2z > bookbuyer.json
  osm proxy get stats -n bookbuyer bookbuyer-7d9c9c6c5d-8xq2z -f stats.txt`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeAdminQueryThenPod(&ns),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := clients(cmd)
			if err != nil {
				return err
			}
			body, err := proxy.Get(cmd.Context(), c, namespaceOr(cmd, ns), args[1], args[0])
			if err != nil {
				return err
			}
			if file == "" {
				_, err = cmd.OutOrStdout().Write(body)
				return err
			}
			if err := os.WriteFile(file, body, 0o600); err != nil {
				return fmt.Errorf("when writing the answer to %s: %w", file, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&ns, "namespace", "n", "", "namespace of the pod (default: the kubeconfig context's)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "write the answer to this file instead of stdout")
	registerNamespaceCompletion(cmd)
	return cmd
}

func newProxyBootstrapCmd() *cobra.Command {
	var ns string
	var summary bool
	cmd := &cobra.Command{
		Use:   "bootstrap POD",
		Short: "Print the generated Envoy bootstrap a pod uses (from its ConfigMap; Envoy need not run)",
		Long: `Print the Envoy bootstrap of POD: the bootstrap.yaml of the envoy-bootstrap-* ConfigMap the pod
mounts at /etc/envoy. It is read from the API server, so it works when Envoy is not running.`,
		Example: `  osm proxy bootstrap -n bookbuyer bookbuyer-7d9c9c6c5d-8xq2z
  osm proxy bootstrap --summary -n bookbuyer bookbuyer-7d9c9c6c5d-8xq2z`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePods(&ns, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := clients(cmd)
			if err != nil {
				return err
			}
			b, err := proxy.ReadBootstrap(cmd.Context(), c.Kube, namespaceOr(cmd, ns), args[0])
			if err != nil {
				return err
			}
			if summary {
				facts, err := check.ReadFacts(b.YAML)
				if err != nil {
					return fmt.Errorf("when reading the bootstrap of ConfigMap %s/%s: %w", b.ConfigMap.Namespace, b.ConfigMap.Name, err)
				}
				_, err = fmt.Fprint(cmd.OutOrStdout(), proxy.Summary(b, facts))
				return err
			}
			_, err = cmd.OutOrStdout().Write(b.YAML)
			return err
		},
	}
	cmd.Flags().StringVarP(&ns, "namespace", "n", "", "namespace of the pod (default: the kubeconfig context's)")
	cmd.Flags().BoolVar(&summary, "summary", false, "print what the bootstrap sets (collector, span names, access log, Prometheus port) and the envoy container's resources instead of the YAML")
	registerNamespaceCompletion(cmd)
	return cmd
}

func newProxyRolloutCmd() *cobra.Command {
	var ns, controlPlane string
	var outdated bool
	cmd := &cobra.Command{
		Use:   "rollout --outdated",
		Short: "Roll the workloads whose sidecars run a bootstrap another osm-injector version rendered",
		Long: `Roll the outdated workloads: those whose pods run their tracing settings in a bootstrap another
osm-injector version rendered (after an upgrade), which the re-bootstrap controller reports in the
MeshConfig status (status.rebootstrap.outdated) but does not roll unless spec.rebootstrap.onUpgrade
is true. Their pod templates get the controller's own stamp (the bootstrap-hash annotation), so
each rolls with its own update strategy, all at once. The decisions come from the controller's
planner, run here against the cluster: opted-out workloads, paused or OnDelete ones and bare pods
are listed and left alone, and nothing is stamped while a rollout is failed. Use an osm of the
injector's version: the target bootstrap is the one this osm renders.`,
		Example: `  osm proxy rollout --outdated
  osm proxy rollout --outdated -n bookbuyer`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !outdated {
				return fmt.Errorf("say which workloads to roll: --outdated")
			}
			cl, err := rolloutClient(cmd)
			if err != nil {
				return err
			}
			f, err := rollout.Load(cmd.Context(), cl, controlPlane, bootstrap.DefaultMeshConfigName, nil)
			if err != nil {
				return err
			}
			_, err = rollout.StampOutdated(cmd.Context(), cl, f, ns, cmd.OutOrStdout())
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&outdated, "outdated", false, "roll the outdated workloads (the only selection so far)")
	f.StringVarP(&ns, "namespace", "n", "", "roll the workloads of this namespace only (default: every namespace in the mesh)")
	f.StringVar(&controlPlane, "osm-namespace", mesh.DefaultNamespace, "namespace of the control plane")
	registerNamespaceCompletion(cmd)
	return cmd
}
