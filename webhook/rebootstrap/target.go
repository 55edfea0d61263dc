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
	sum := sha256.Sum256([]byte(canon))
	return hex.EncodeToString(sum[:5])
}

// maxMemo bounds the hasher's memo; it is emptied when full. Distinct settings are few
// (services times override combinations), so this is rarely reached.
const maxMemo = 8192

// Hasher computes the bootstrap hash a pod would get from the webhook now: the same
// bootstrap.Resolve and bootstrap.Generate, with Generate's result remembered per Settings
// (rendering and validating an Envoy bootstrap is the expensive part, and many workloads
// share settings across reconciles). Safe for concurrent use.
type Hasher struct {
	// Resolve and Generate default to the bootstrap package's (tests replace them).
	Resolve  func(bootstrap.Input) (bootstrap.Settings, error)
	Generate func(bootstrap.Settings) (bootstrap.Generated, error)

	mu   sync.Mutex
	memo map[bootstrap.Settings]string
}

// Hash returns the bootstrap hash for in, or an error naming what cannot be resolved.
func (h *Hasher) Hash(in bootstrap.Input) (string, error) {
	resolve, generate := h.Resolve, h.Generate
	if resolve == nil {
		resolve = bootstrap.Resolve
	}
	if generate == nil {
		generate = bootstrap.Generate
	}
	s, err := resolve(in)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	hash, ok := h.memo[s]
	h.mu.Unlock()
	if ok {
		return hash, nil
	}
	g, err := generate(s)
	if err != nil {
		return "", fmt.Errorf("when generating the bootstrap of service %q: %w", s.ServiceName, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.memo == nil || len(h.memo) >= maxMemo {
		h.memo = make(map[bootstrap.Settings]string)
	}
	h.memo[s] = g.Hash
	return g.Hash, nil
}
