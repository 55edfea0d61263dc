package rebootstrap

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// MeshTarget names mesh-wide tracing settings in the MeshConfig status: a short hash of
// their canonical form, so equal settings give equal targets.
func MeshTarget(t bootstrap.Tracing) string {
	canon := strconv.FormatBool(t.Enable) + "\n" + t.Address + "\n" +
		strconv.FormatUint(uint64(t.Port), 10) + "\n" + t.Endpoint + "\n" +
		strconv.FormatFloat(t.Sampling, 'g', -1, 64) + "\n" + t.Propagation
	// Fields added later join the canonical form only when they differ from their default,
	// so the targets of settings that existed before them stay what they were.
	if t.Protocol != "" && t.Protocol != bootstrap.ProtocolZipkin {
		canon += "\nprotocol=" + t.Protocol
	}
	if t.Tags != "" {
		canon += "\ntags=" + strconv.Quote(t.Tags)
	}
	if t.MaxPathTagLength != 0 {
		canon += "\nmaxPathTagLength=" + strconv.FormatUint(uint64(t.MaxPathTagLength), 10)
	}
	sum := sha256.Sum256([]byte(canon))
	return hex.EncodeToString(sum[:5])
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
