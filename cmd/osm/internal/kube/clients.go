package kube

import (
	"fmt"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Clients are the clients of one cluster, made from the user's kubeconfig.
type Clients struct {
	// Getter is what the Helm SDK takes; it honours --kubeconfig and --context.
	Getter genericclioptions.RESTClientGetter
	// Config is the REST configuration the other clients are made from.
	Config  *rest.Config
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
}

// New makes the clients of the cluster that getter's kubeconfig selects.
func New(getter genericclioptions.RESTClientGetter) (*Clients, error) {
	cfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("when loading the kubeconfig (set --kubeconfig, $KUBECONFIG or --context): %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("when making a Kubernetes client for %s: %w", cfg.Host, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("when making a dynamic client for %s: %w", cfg.Host, err)
	}
	return &Clients{Getter: getter, Config: cfg, Kube: cs, Dynamic: dyn}, nil
}

// NewConfigFlags returns client settings with clientcmd's loading rules (KUBECONFIG, then
// ~/.kube/config); the CLI sets only KubeConfig and Context, from its global --kubeconfig and
// --context flags.
func NewConfigFlags() *genericclioptions.ConfigFlags {
	return genericclioptions.NewConfigFlags(true)
}
