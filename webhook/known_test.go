package webhook

import (
	"fmt"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

func TestKnownSetExpires(t *testing.T) {
	clk := testingclock.NewFakePassiveClock(time.Unix(1000, 0))
	k := newKnownSet(30*time.Second, clk)
	k.add("ns/a")
	if !k.has("ns/a") || k.has("ns/b") {
		t.Fatal("want a known, b unknown")
	}
	clk.SetTime(clk.Now().Add(30*time.Second - time.Millisecond))
	if !k.has("ns/a") {
		t.Fatal("an entry must live for its TTL")
	}
	clk.SetTime(clk.Now().Add(2 * time.Millisecond))
	if k.has("ns/a") {
		t.Fatal("an entry must expire after its TTL (the garbage collector may delete the ConfigMap later)")
	}
}

func TestKnownSetIsBounded(t *testing.T) {
	k := newKnownSet(time.Hour, nil)
	for i := range maxKnown + 10 {
		k.add(fmt.Sprint("ns/", i))
	}
	if n := len(k.entries.Keys()); n > maxKnown {
		t.Fatalf("the set grew to %d entries, past %d", n, maxKnown)
	}
	if !k.has(fmt.Sprint("ns/", maxKnown+9)) {
		t.Fatal("the newest entry must stay when the set is full")
	}
}

func TestKnownSetDisabled(t *testing.T) {
	k := newKnownSet(0, nil)
	k.add("ns/a")
	if k.has("ns/a") {
		t.Fatal("a zero TTL disables the set")
	}
}
