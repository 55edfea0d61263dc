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
