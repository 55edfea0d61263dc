package certs

import (
	"net"
	"testing"
	"time"

	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
)

// t0 is the start of every test's fake time.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newFakeClock is a clock at t0 that tests step by hand.
func newFakeClock() *testingclock.FakeClock { return testingclock.NewFakeClock(t0) }

// testOptions are complete options with short, round lifetimes.
func testOptions(t *testing.T, clk clock.Clock) Options {
	t.Helper()
	o, err := Options{
		Namespace:         "osm-system",
		IPAddresses:       []net.IP{net.ParseIP("127.0.0.1")},
		CAValidity:        300 * time.Hour,
		CertValidity:      30 * time.Hour,
		BundlePropagation: time.Hour,
		Clock:             clk,
	}.withDefaults()
	if err != nil {
		t.Fatalf("withDefaults: %v", err)
	}
	return o
}

func mustCA(t *testing.T, now time.Time, validity time.Duration) keyPair {
	t.Helper()
	ca, err := newCA(now, validity)
	if err != nil {
		t.Fatalf("newCA: %v", err)
	}
	return ca
}

func mustServing(t *testing.T, ca keyPair, now time.Time, validity time.Duration, names []string, ips []net.IP) keyPair {
	t.Helper()
	kp, err := issueServing(ca, now, validity, names, ips)
	if err != nil {
		t.Fatalf("issueServing: %v", err)
	}
	return kp
}
