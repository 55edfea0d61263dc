package load

import (
	"testing"
	"time"
)

func ms1(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms1(i + 1) // 1ms..100ms
	}
	cases := map[string]struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		"no values give zero":                        {nil, 50, 0},
		"one value is every percentile":              {[]time.Duration{ms1(7)}, 99, ms1(7)},
		"p50 of 1..100 is 50":                        {hundred, 50, ms1(50)},
		"p90 of 1..100 is 90":                        {hundred, 90, ms1(90)},
		"p99 of 1..100 is 99":                        {hundred, 99, ms1(99)},
		"p100 is the maximum":                        {hundred, 100, ms1(100)},
		"nearest rank rounds up: p50 of four is 2nd": {[]time.Duration{1, 2, 3, 4}, 50, 2},
		"p51 of four is the 3rd":                     {[]time.Duration{1, 2, 3, 4}, 51, 3},
		"p99 of ten is the maximum":                  {[]time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		"a tiny percentile is the minimum":           {[]time.Duration{5, 6, 7}, 0.001, 5},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	// 1ms..1000ms in a scrambled order (7919 is prime to 1000, so i*7919 mod 1000 is a
	// permutation).
	ds := make([]time.Duration, 0, 1000)
	for i := range 1000 {
		ds = append(ds, ms1(i*7919%1000+1))
	}
	got := summarize(ds)
	want := latencies{P50: ms1(500), P90: ms1(900), P99: ms1(990), Max: ms1(1000), Mean: 500500 * time.Microsecond}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
	if (summarize(nil) != latencies{}) {
		t.Error("summarize(nil) is not zero")
	}
}

func TestThroughput(t *testing.T) {
	if got := throughput(500, 2*time.Second); got != 250 {
		t.Errorf("throughput = %v", got)
	}
	if got := throughput(5, 0); got != 0 {
		t.Errorf("throughput over no time = %v", got)
	}
}
