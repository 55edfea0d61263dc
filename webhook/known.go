package webhook

import (
	"time"

	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/utils/clock"
)

// maxKnown bounds the known-to-exist set; past it the least recently used entries go (it is
// only an optimisation).
const maxKnown = 4096

// knownSet remembers, for a short time, ConfigMaps this process created or found to exist, so
// the admissions that follow (before the informer cache shows the object) do not all create.
// Entries expire: the garbage collector may delete a ConfigMap once it is older than its grace
// period, and a stale entry must never outlive that.
type knownSet struct {
	ttl     time.Duration
	entries *cache.LRUExpireCache // key → struct{}
}

// newKnownSet returns a set whose entries live ttl on clk (the real clock when nil); a ttl
// of zero or less disables it.
func newKnownSet(ttl time.Duration, clk clock.PassiveClock) *knownSet {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &knownSet{ttl: ttl, entries: cache.NewLRUExpireCacheWithClock(maxKnown, clk)}
}

func (k *knownSet) has(key string) bool {
	_, ok := k.entries.Get(key)
	return ok
}

func (k *knownSet) add(key string) {
	if k.ttl > 0 {
		k.entries.Add(key, struct{}{}, k.ttl)
	}
}
