package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// completionTimeout bounds the cluster calls of shell completion.
const completionTimeout = 5 * time.Second

// adminQueries are the Envoy admin paths offered for QUERY.
var adminQueries = []string{
	"config_dump", "clusters", "listeners", "stats", "stats/prometheus", "ready", "server_info",
	"certs", "runtime", "memory", "hot_restart_version",
}

// completeNamespaces offers the cluster's namespaces.
func completeNamespaces(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	c, err := clients(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	list, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, prefix) {
			out = append(out, ns.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completePods offers the pods of the -n namespace when the argument at index pos is typed.
func completePods(ns *string, pos int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) != pos {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := clients(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
		defer cancel()
		list, err := c.Kube.CoreV1().Pods(namespaceOr(cmd, *ns)).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, p := range list.Items {
			if strings.HasPrefix(p.Name, prefix) {
				out = append(out, p.Name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeAdminQueryThenPod offers admin paths for QUERY, then pods for POD.
func completeAdminQueryThenPod(ns *string) cobra.CompletionFunc {
	pods := completePods(ns, 1)
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			var out []cobra.Completion
			for _, q := range adminQueries {
				if strings.HasPrefix(q, prefix) {
					out = append(out, q)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		return pods(cmd, args, prefix)
	}
}

// registerNamespaceCompletion completes -n/--namespace with the cluster's namespaces.
func registerNamespaceCompletion(cmd *cobra.Command) {
	// The error only says the flag does not exist, which the callers rule out.
	_ = cmd.RegisterFlagCompletionFunc("namespace", completeNamespaces)
}
