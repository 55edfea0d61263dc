package rebootstrap

import (
	"fmt"
	"sync"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// MeshTarget names mesh-wide tracing settings in the MeshConfig status
// (status.rebootstrap.target): the core's settings hash (bootstrap.SettingsHash, HashLen hex
// digits) of settings that carry t and nothing of a pod, so equal settings give equal targets
// and there is one canonical encoding of settings, the core's, not a second one here.
func MeshTarget(t bootstrap.Tracing) string {
	return bootstrap.SettingsHash(bootstrap.Settings{Tracing: t})
}

// Hasher computes the bootstrap hash a pod would get from the webhook now: the same
// bootstrap.Resolve, and bootstrap generation through a bootstrap.Cache (rendering and
// validating an Envoy bootstrap is the expensive part, and many workloads share settings
// across reconciles). osm-injector gives it the admission handler's cache, so the process
// keeps one memo of generated bootstraps. Safe for concurrent use.
type Hasher struct {
	// Bootstraps memoises generation; nil means a cache of the Hasher's own, made on first
	// use.
	Bootstraps *bootstrap.Cache
	// Resolve defaults to bootstrap.Resolve (tests replace it).
	Resolve func(bootstrap.Input) (bootstrap.Settings, error)

	once sync.Once
}

// Sweep forgets the memoised hashes not asked for since the previous Sweep
// (bootstrap.Cache.Sweep).
func (h *Hasher) Sweep() {
	if h.Bootstraps != nil {
		h.Bootstraps.Sweep()
	}
}

// Hash returns the bootstrap hash for in and the settings hash (bootstrap.SettingsHash) of
// the settings it resolves to, or an error naming what cannot be resolved.
func (h *Hasher) Hash(in bootstrap.Input) (hash, settings string, err error) {
	h.once.Do(func() {
		if h.Bootstraps == nil {
			h.Bootstraps = bootstrap.NewCache(bootstrap.DefaultCacheSize)
		}
	})
	resolve := h.Resolve
	if resolve == nil {
		resolve = bootstrap.Resolve
	}
	s, err := resolve(in)
	if err != nil {
		return "", "", err
	}
	// The hash alone: the controller follows every workload and needs none of their YAML.
	hash, settings, err = h.Bootstraps.Hash(s)
	if err != nil {
		return "", "", fmt.Errorf("when generating the bootstrap of service %q: %w", s.ServiceName, err)
	}
	return hash, settings, nil
}
