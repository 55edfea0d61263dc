package mesh

import (
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// helmConfig makes the Helm SDK's configuration for releases in namespace ns ("" for every
// namespace), storing releases in Secrets as the helm CLI does by default.
func helmConfig(getter genericclioptions.RESTClientGetter, ns string, debug func(string, ...any)) (*action.Configuration, error) {
	if debug == nil {
		debug = func(string, ...any) {}
	}
	cfg := &action.Configuration{}
	if err := cfg.Init(getter, ns, "secret", debug); err != nil {
		return nil, fmt.Errorf("when setting up the Helm client: %w", err)
	}
	return cfg, nil
}
