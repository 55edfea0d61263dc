package main

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/rollout"
)

// addKubeFlags gives root the global --kubeconfig and --context flags when it lacks them.
func addKubeFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	if pf.Lookup("kubeconfig") == nil {
		pf.String("kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	}
	if pf.Lookup("context") == nil {
		pf.String("context", "", "the kubeconfig context to use (default: the current context)")
	}
}

// configFlags are the client settings of cmd: its --kubeconfig and --context, wherever they
// were declared, with clientcmd's loading rules for the rest.
func configFlags(cmd *cobra.Command) *genericclioptions.ConfigFlags {
	cf := kube.NewConfigFlags()
	if f := cmd.Flags().Lookup("kubeconfig"); f != nil {
		v := f.Value.String()
		cf.KubeConfig = &v
	}
	if f := cmd.Flags().Lookup("context"); f != nil {
		v := f.Value.String()
		cf.Context = &v
	}
	return cf
}

// clients makes the clients of the cluster cmd's kubeconfig selects.
func clients(cmd *cobra.Command) (*kube.Clients, error) {
	return kube.New(configFlags(cmd))
}

// rolloutClient is the read-and-stamp client of osm tracing plan and osm proxy rollout
// (rollout.NewClient) for the command's kubeconfig flags.
func rolloutClient(cmd *cobra.Command) (client.Client, error) {
	c, err := clients(cmd)
	if err != nil {
		return nil, err
	}
	return rollout.NewClient(c.Config)
}

// namespaceOr returns ns, or the kubeconfig context's namespace ("default" when it has none).
func namespaceOr(cmd *cobra.Command, ns string) string {
	if ns != "" {
		return ns
	}
	if got, _, err := configFlags(cmd).ToRawKubeConfigLoader().Namespace(); err == nil && got != "" {
		return got
	}
	return "default"
}
