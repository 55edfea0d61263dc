package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// newRootCmd is the osm command with its subcommands. Add a subcommand with
// root.AddCommand(newXxxCmd()); a subcommand reads and writes through cmd.InOrStdin(),
// cmd.OutOrStdout() and cmd.ErrOrStderr() so tests can run it in-process.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "osm",
		Short: "osm-tracing: an Envoy sidecar injector for distributed tracing with Zipkin collectors",
		// Errors are printed once, by execute; a usage dump would bury them.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newInjectCmd())
	root.AddCommand(meshCommands(root)...)
	return root
}

// execute runs osm with args and the given streams, prints an error to errOut and returns
// the exit code: 0, or 1 on any error. A panic is reported as an error, never as a stack.
func execute(args []string, in io.Reader, out, errOut io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(errOut, "Error: internal error: %v\n", r)
			code = 1
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(errOut, "Error:", err)
		return 1
	}
	return 0
}
