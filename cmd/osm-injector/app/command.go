package app

import (
	"flag"
	"fmt"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// NewCommand returns the osm-injector command.
func NewCommand() *cobra.Command {
	opts := DefaultOptions()
	zapOpts := zap.Options{}
	cmd := &cobra.Command{
		Use:   "osm-injector",
		Short: "Envoy sidecar injector with Zipkin tracing: admission webhook and its controllers",
		Long: "osm-injector serves the mutating admission webhook that injects the Envoy sidecar and its\n" +
			"generated bootstrap (a shared, content-addressed ConfigMap with the Zipkin tracer) into pods of\n" +
			"namespaces labelled openservicemesh.io/sidecar-injection=enabled, and runs its controllers:\n" +
			"the webhook configuration, MeshConfig validity and re-bootstrap, bootstrap ConfigMap garbage\n" +
			"collection and the webhook certificate.",
		Version:       versionString(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.Validate(); err != nil {
				return fmt.Errorf("invalid flags:\n%w", err)
			}
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			return Run(cmd.Context(), opts)
		},
	}
	// Declared here so that cobra adds no -v shorthand, which reads as a log verbosity.
	cmd.Flags().Bool("version", false, "print osm-injector's version and exit")
	opts.BindFlags(cmd.Flags())
	logFlags := flag.NewFlagSet("log", flag.ContinueOnError)
	zapOpts.BindFlags(logFlags)
	cmd.Flags().AddGoFlagSet(logFlags)
	return cmd
}
