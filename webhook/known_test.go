package webhook

import (
	"testing"
	"time"
)

func TestKnownSetExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	k := newKnownSet(30*time.Second, func() time.Time { return now })
	k.add("ns/a")
	if !k.has("ns/a") || k.has("ns/b") {
		t.Fatal("want a known, b unknown")
	}
	now = now.Add(30 * time.Second)
	if k.has("ns/a") {
		t.Fatal("an entry must expire after its TTL (the garbage collector may delete the ConfigMap later)")
	}
}

func TestKnownSetIsBounded(t *testing.T) {
	k := newKnownSet(time.Hour, nil)
	for i := range maxKnown + 10 {
		k.add(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if n := len(k.entries); n > maxKnown {
		t.Fatalf("the set grew to %d entries, past %d", n, maxKnown)
	}
}

func TestKnownSetDisabled(t *testing.T) {
	k := newKnownSet(0, nil)
	k.add("ns/a")
	if k.has("ns/a") {
		t.Fatal("a zero TTL disables the set")
	}
}
