package framework

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ControllerClient is a controller-runtime client of the admin for the given scheme (nil: the
// client-go scheme of built-in types).
func (c *Cluster) ControllerClient(scheme *runtime.Scheme) (client.Client, error) {
	cl, err := client.New(c.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("when making a controller-runtime client: %w", err)
	}
	return cl, nil
}
