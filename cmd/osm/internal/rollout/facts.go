package rollout

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// FieldOwner is the field manager of the stamps the CLI writes.
const FieldOwner = "osm-cli"

// NewClient makes a client of the cluster that reads the built-in types and MeshConfigs
// straight from the API server (no cache).
func NewClient(cfg *rest.Config) (client.Client, error) {
	scheme, err := rebootstrap.NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("when making a client for %s: %w", cfg.Host, err)
	}
	return c, nil
}

// Facts is the planner's input as the cluster shows it.
type Facts struct {
	MeshConfig *v1alpha2.MeshConfig
	Workloads  []rebootstrap.Workload
	BarePods   []rebootstrap.BarePod
}

// Load reads the MeshConfig controlPlane/name, applies edit to it in memory (nil: none),
// and collects the workloads as the controller does.
func Load(ctx context.Context, c client.Reader, controlPlane, name string, edit func(*v1alpha2.MeshConfig) error) (*Facts, error) {
	mc := &v1alpha2.MeshConfig{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: controlPlane, Name: name}, mc); err != nil {
		return nil, fmt.Errorf("when reading MeshConfig %s/%s: %w", controlPlane, name, err)
	}
	if edit != nil {
		if err := edit(mc); err != nil {
			return nil, err
		}
	}
	snap, err := rebootstrap.ReadSnapshot(ctx, c, controlPlane, bootstrap.Tracing{}, mc)
	if err != nil {
		return nil, err
	}
	var h rebootstrap.Hasher
	ws, bare := rebootstrap.Collect(snap, h.Hash)
	return &Facts{MeshConfig: mc, Workloads: ws, BarePods: bare}, nil
}
