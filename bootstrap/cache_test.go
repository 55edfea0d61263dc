package bootstrap

import (
	"bytes"
	"sync"
	"testing"
)

func cacheSettings(service string) Settings {
	t := Defaults("osm-system")
	t.Enable = true
	return Settings{Tracing: t, ServiceName: service}
}

func TestCacheReturnsWhatGenerateReturns(t *testing.T) {
	c := NewCache(0)
	s := cacheSettings("bookbuyer")
	want, err := Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := c.Generate(s)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got.Hash != want.Hash || !bytes.Equal(got.YAML, want.YAML) || got.Settings != want.Settings {
			t.Fatalf("call %d: cached result differs from Generate's", i)
		}
	}
	if c.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", c.Len())
	}
}

func TestCacheDoesNotCacheErrors(t *testing.T) {
	c := NewCache(0)
	bad := cacheSettings("bookbuyer")
	bad.Tracing.Port = 0
	if _, err := c.Generate(bad); err == nil {
		t.Fatal("want an error for port 0")
	}
	if c.Len() != 0 {
		t.Fatalf("Len() = %d after an error, want 0", c.Len())
	}
}

func TestCacheStaysBounded(t *testing.T) {
	c := NewCache(2)
	for _, svc := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.Generate(cacheSettings(svc)); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 2 {
			t.Fatalf("Len() = %d, bound is 2", c.Len())
		}
	}
}

// TestCacheHashKeepsNoYAML: Hash gives Generate's hash and keeps only the hash, so that
// following every workload of a cluster costs no rendered bootstrap per workload; a later
// Generate of the same settings still renders it.
func TestCacheHashKeepsNoYAML(t *testing.T) {
	c := NewCache(0)
	for _, svc := range []string{"a", "b", "c"} {
		s := cacheSettings(svc)
		want, err := Generate(s)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, settings, err := c.Hash(s)
			if err != nil || got != want.Hash || settings != SettingsHash(s) {
				t.Fatalf("Hash(%q) = %q, %q, %v; want %q, %q", svc, got, settings, err, want.Hash, SettingsHash(s))
			}
		}
	}
	if c.Len() != 0 || c.Hashed() != 3 {
		t.Fatalf("after Hash: %d rendered bootstraps, %d hashes; want 0 and 3", c.Len(), c.Hashed())
	}
	g, err := c.Generate(cacheSettings("a"))
	if err != nil || len(g.YAML) == 0 {
		t.Fatalf("Generate after Hash: %d bytes, %v", len(g.YAML), err)
	}
	if c.Len() != 1 || c.Hashed() != 3 {
		t.Fatalf("after Generate: %d rendered bootstraps, %d hashes; want 1 and 3", c.Len(), c.Hashed())
	}
	bad := cacheSettings("a")
	bad.Tracing.Port = 0
	if _, _, err := c.Hash(bad); err == nil || c.Hashed() != 3 {
		t.Fatalf("Hash of port 0: err %v, %d hashes; want an error and nothing kept", err, c.Hashed())
	}
}

// TestCacheSweep: a Sweep keeps the hashes asked for since the Sweep before (by Hash or
// Generate) and forgets the others; hashes are right across sweeps, and concurrent use
// with sweeps is safe.
func TestCacheSweep(t *testing.T) {
	c := NewCache(0)
	hash := func(svc string) {
		t.Helper()
		want, err := Generate(cacheSettings(svc))
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := c.Hash(cacheSettings(svc)); err != nil || got != want.Hash {
			t.Fatalf("Hash(%q) = %q, %v; want %q", svc, got, err, want.Hash)
		}
	}
	for _, svc := range []string{"a", "b", "c"} {
		hash(svc)
	}
	c.Sweep()
	if c.Hashed() != 3 {
		t.Fatalf("after one Sweep: %d hashes, want the 3 asked for before it", c.Hashed())
	}
	hash("a")
	if _, err := c.Generate(cacheSettings("c")); err != nil {
		t.Fatal(err)
	}
	if c.Hashed() != 3 {
		t.Fatalf("a asked for again, c generated: %d hashes, want still 3 (each in one generation)", c.Hashed())
	}
	hash("d")
	c.Sweep()
	if c.Hashed() != 3 {
		t.Fatalf("after a second Sweep: %d hashes, want a, c and d (b was not asked for)", c.Hashed())
	}
	hash("b")
	if c.Hashed() != 4 {
		t.Fatalf("b asked for again: %d hashes, want 4", c.Hashed())
	}

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				svc := string(rune('a' + (i+j)%5))
				if _, _, err := c.Hash(cacheSettings(svc)); err != nil {
					t.Error(err)
				}
				if j%10 == 0 {
					c.Sweep()
				}
			}
		})
	}
	wg.Wait()
}

// TestGeneratedYAMLHasNoSpareCapacity: the memo keeps what Generate returns, so a buffer
// larger than the bootstrap would be kept with it.
func TestGeneratedYAMLHasNoSpareCapacity(t *testing.T) {
	g, err := Generate(cacheSettings("bookbuyer"))
	if err != nil {
		t.Fatal(err)
	}
	if cap(g.YAML) != len(g.YAML) {
		t.Fatalf("YAML of %d bytes in a buffer of %d", len(g.YAML), cap(g.YAML))
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	c := NewCache(3)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			svc := []string{"a", "b", "c", "d"}[i%4]
			g, err := c.Generate(cacheSettings(svc))
			if err != nil || g.Settings.ServiceName != svc {
				t.Errorf("Generate(%q) = %q, %v", svc, g.Settings.ServiceName, err)
			}
			if h, _, err := c.Hash(cacheSettings(svc)); err != nil || h != g.Hash {
				t.Errorf("Hash(%q) = %q, %v; want %q", svc, h, err, g.Hash)
			}
		})
	}
	wg.Wait()
}

func BenchmarkCacheGenerateHit(b *testing.B) {
	c := NewCache(0)
	s := cacheSettings("bookbuyer")
	if _, err := c.Generate(s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Generate(s); err != nil {
			b.Fatal(err)
		}
	}
}
