package bootstrap

import "sync"

// DefaultCacheSize bounds the rendered bootstraps a Cache keeps: the settings of the pods
// being admitted now (a rollout's workloads, a scale-up), each ~28 KiB (the dual-stack and
// the IPv4-only rendering, ~14 KiB each). A miss costs one Generate (~0.2 ms of CPU), so a
// small bound costs little and keeps memory flat.
const DefaultCacheSize = 512

// DefaultHashCacheSize bounds the hashes a Cache keeps: one per distinct settings, so one
// per injected workload of the cluster (the re-bootstrap controller hashes every workload
// at each pass), a few hundred bytes each. Sweep drops the settings no longer asked for
// well before that.
const DefaultHashCacheSize = 65536

// Cache memoises Generate by Settings, so an admission of a pod whose settings were seen
// before costs a map look-up instead of a bootstrap build, and memoises the hashes alone for
// callers that only compare (Hash), so that following every workload of a large cluster
// does not keep every workload's YAML. Errors are not cached. It is safe for concurrent use.
// A memo that reaches its bound starts afresh: a rebuild is cheap, so a simple bound beats
// an eviction policy.
//
// The Generated values it returns share their YAML bytes: callers must not modify them.
type Cache struct {
	mu        sync.RWMutex
	max       int
	entries   map[Settings]Generated
	maxHashes int
	hashes    map[Settings]hashes
	// older are the hashes of the generation before the last Sweep: one asked for again moves
	// back to hashes, the others go at the next Sweep.
	older map[Settings]hashes
}

// hashes are the two hashes of one Settings.
type hashes struct{ bootstrap, settings string }

// NewCache returns an empty cache keeping at most maxEntries rendered bootstraps
// (DefaultCacheSize when maxEntries < 1) and DefaultHashCacheSize hashes.
func NewCache(maxEntries int) *Cache {
	if maxEntries < 1 {
		maxEntries = DefaultCacheSize
	}
	return &Cache{
		max: maxEntries, entries: make(map[Settings]Generated),
		maxHashes: DefaultHashCacheSize, hashes: make(map[Settings]hashes),
	}
}

// Generate returns Generate(s), from the cache when s was generated before.
func (c *Cache) Generate(s Settings) (Generated, error) {
	c.mu.RLock()
	g, ok := c.entries[s]
	c.mu.RUnlock()
	if ok {
		return g, nil
	}
	g, err := Generate(s)
	if err != nil {
		return Generated{}, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	c.entries[s] = g
	c.storeHash(s, g.Hash)
	c.mu.Unlock()
	return g, nil
}

// Hash returns Generate(s).Hash and SettingsHash(s). On a miss it generates and keeps only
// the hashes.
func (c *Cache) Hash(s Settings) (hash, settings string, err error) {
	if h, ok := c.lookupHash(s); ok {
		return h.bootstrap, h.settings, nil
	}
	g, err := Generate(s)
	if err != nil {
		return "", "", err
	}
	c.mu.Lock()
	h := c.storeHash(s, g.Hash)
	c.mu.Unlock()
	return h.bootstrap, h.settings, nil
}

// lookupHash finds the hashes of s, and moves them back from the older generation.
func (c *Cache) lookupHash(s Settings) (hashes, bool) {
	c.mu.RLock()
	h, ok := c.hashes[s]
	_, old := c.older[s]
	c.mu.RUnlock()
	if ok || !old {
		return h, ok
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok = c.hashes[s]; ok { // moved back meanwhile
		return h, true
	}
	if h, ok = c.older[s]; ok {
		delete(c.older, s)
		c.keepHash(s, h)
	}
	return h, ok
}

// storeHash records the hashes of s; c.mu must be held for writing.
func (c *Cache) storeHash(s Settings, hash string) hashes {
	h := hashes{bootstrap: hash, settings: SettingsHash(s)}
	c.keepHash(s, h)
	return h
}

func (c *Cache) keepHash(s Settings, h hashes) {
	if len(c.hashes) >= c.maxHashes {
		clear(c.hashes)
	}
	c.hashes[s] = h
	delete(c.older, s) // one generation holds it
}

// Sweep forgets the hashes of the settings not asked for through Hash, nor generated, since
// the previous Sweep (a Generate answered from the rendered memo does not count). The
// re-bootstrap controller, which hashes every workload's settings at each pass, sweeps now
// and then: the settings of before a MeshConfig change (one per workload) then go instead
// of piling up until the bound.
func (c *Cache) Sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.older = c.hashes
	c.hashes = make(map[Settings]hashes, len(c.older))
}

// Len reports how many rendered bootstraps the cache holds.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// Hashed reports for how many settings the cache holds the hashes.
func (c *Cache) Hashed() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.hashes) + len(c.older)
}
