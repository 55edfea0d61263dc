package webhook

import (
	"sync"
	"time"
)

// maxKnown bounds the known-to-exist set; past it, expired entries are pruned and, if that is
// not enough, the set starts afresh (it is only an optimisation).
const maxKnown = 4096

// knownSet remembers, for a short time, ConfigMaps this process created or found to exist, so
// the admissions that follow (before the informer cache shows the object) do not all create.
// Entries expire: the garbage collector may delete a ConfigMap once it is older than its grace
// period, and a stale entry must never outlive that.
type knownSet struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]time.Time
}

func newKnownSet(ttl time.Duration, now func() time.Time) *knownSet {
	if now == nil {
		now = time.Now
	}
	return &knownSet{ttl: ttl, now: now, entries: map[string]time.Time{}}
}

func (k *knownSet) has(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.entries[key]
	if !ok {
		return false
	}
	if k.now().Sub(at) >= k.ttl {
		delete(k.entries, key)
		return false
	}
	return true
}

func (k *knownSet) add(key string) {
	if k.ttl <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if len(k.entries) >= maxKnown {
		for key, at := range k.entries {
			if now.Sub(at) >= k.ttl {
				delete(k.entries, key)
			}
		}
		if len(k.entries) >= maxKnown {
			k.entries = map[string]time.Time{}
		}
	}
	k.entries[key] = now
}

// inflight lets one caller per key do the work while concurrent callers for the same key wait
// for its result.
type inflight struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done chan struct{}
	err  error
}

// do runs fn once for all concurrent callers with the same key. A waiter gives up when its
// done channel closes (the request's context).
func (f *inflight) do(done <-chan struct{}, key string, fn func() error) error {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*call{}
	}
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-done:
			return errWaitCancelled
		}
	}
	c := &call{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.err = fn()
	return c.err
}
