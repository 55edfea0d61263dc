package bootstrap

import "sync"

// DefaultCacheSize bounds a Cache: far more distinct settings than a mesh has services.
const DefaultCacheSize = 4096

// Cache memoises Generate by Settings, so an admission of a pod whose settings were seen
// before costs a map look-up instead of a bootstrap build. Errors are not cached. It is safe
// for concurrent use. When it holds max entries it starts afresh: settings are few in
// practice, and a rebuild is cheap, so a simple bound beats an eviction policy.
//
// The Generated values it returns share their YAML bytes: callers must not modify them.
type Cache struct {
	mu      sync.RWMutex
	max     int
	entries map[Settings]Generated
}

// NewCache returns an empty cache holding at most max entries (DefaultCacheSize when max < 1).
func NewCache(maxEntries int) *Cache {
	if maxEntries < 1 {
		maxEntries = DefaultCacheSize
	}
	return &Cache{max: maxEntries, entries: make(map[Settings]Generated)}
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
	c.mu.Unlock()
	return g, nil
}

// Len reports how many settings the cache holds.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
