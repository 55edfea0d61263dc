package webhook

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// MeshSource hands out the tracing spec of the MeshConfig the injector follows, read from an
// informer cache, and keeps the last good one: a MeshConfig that bootstrap.MeshTracing
// refuses is logged once per resourceVersion and ignored (the MeshConfig status reconciler
// reports it as condition Valid=False), and the previous good spec stays in force.
type MeshSource struct {
	// Reader is a cached reader (the manager's client or cache).
	Reader client.Reader
	// Key names the MeshConfig.
	Key types.NamespacedName
	// Defaults is the layer under the MeshConfig, used to validate it.
	Defaults bootstrap.Tracing
	// Log receives the refusals.
	Log logr.Logger

	mu       sync.Mutex
	seenRV   string
	good     *v1alpha2.ObservabilitySpec
	haveGood bool
}

// Current returns the tracing spec in force: nil when there is no MeshConfig (or none was
// ever valid). The returned value must not be modified.
func (m *MeshSource) Current(ctx context.Context) (*v1alpha2.ObservabilitySpec, error) {
	mc := &v1alpha2.MeshConfig{}
	err := m.Reader.Get(ctx, m.Key, mc)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		m.seenRV, m.good, m.haveGood = "", nil, false
		return nil, nil
	case err != nil:
		if m.haveGood {
			m.Log.Error(err, "when reading the MeshConfig; keeping the last good settings", "meshConfig", m.Key)
			return m.good, nil
		}
		return nil, fmt.Errorf("when reading MeshConfig %s: %w", m.Key, err)
	}
	if mc.ResourceVersion != "" && mc.ResourceVersion == m.seenRV {
		return m.good, nil
	}
	m.seenRV = mc.ResourceVersion
	spec := &mc.Spec.Observability
	if _, err := bootstrap.MeshTracing(m.Defaults, spec); err != nil {
		m.Log.Error(err, "ignoring an invalid MeshConfig; keeping the last good settings",
			"meshConfig", m.Key, "resourceVersion", mc.ResourceVersion, "haveGood", m.haveGood)
		return m.good, nil
	}
	m.good, m.haveGood = spec.DeepCopy(), true
	return m.good, nil
}
