package main

import "github.com/spf13/cobra"

// meshCommands are the commands that manage and inspect a mesh: install, uninstall,
// namespace, proxy, tracing and version. Root adds them with AddCommand; they talk to the
// cluster that root's global --kubeconfig and --context select (added here when root lacks
// them).
func meshCommands(root *cobra.Command) []*cobra.Command {
	addKubeFlags(root)
	return []*cobra.Command{
		newInstallCmd(),
		newUninstallCmd(),
		newNamespaceCmd(),
		newProxyCmd(),
		newTracingCmd(),
		newVersionCmd(),
	}
}
