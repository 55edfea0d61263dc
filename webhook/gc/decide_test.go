package gc

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	grace := 5 * time.Minute
	old := t0.Add(-time.Hour)
	cases := map[string]struct {
		obs  Observation
		want Decision
	}{
		"a referenced ConfigMap is kept and forgotten": {
			obs:  Observation{Now: t0, Created: old, Referenced: true, UnreferencedSince: t0.Add(-time.Hour), Grace: grace},
			want: Decision{},
		},
		"an unreferenced ConfigMap seen for the first time starts its clock": {
			obs:  Observation{Now: t0, Created: old, Grace: grace},
			want: Decision{UnreferencedSince: t0, RequeueAfter: grace},
		},
		"still within the grace period: look again when it ends": {
			obs:  Observation{Now: t0, Created: old, UnreferencedSince: t0.Add(-2 * time.Minute), Grace: grace},
			want: Decision{UnreferencedSince: t0.Add(-2 * time.Minute), RequeueAfter: 3 * time.Minute},
		},
		"unreferenced for the whole grace period: delete": {
			obs:  Observation{Now: t0, Created: old, UnreferencedSince: t0.Add(-grace), Grace: grace},
			want: Decision{Delete: true, UnreferencedSince: t0.Add(-grace)},
		},
		"a young ConfigMap is kept until it is older than the grace period (a pod may be mid-admission)": {
			obs:  Observation{Now: t0, Created: t0.Add(-time.Minute), UnreferencedSince: t0.Add(-10 * time.Minute), Grace: grace},
			want: Decision{UnreferencedSince: t0.Add(-10 * time.Minute), RequeueAfter: 4 * time.Minute},
		},
		"a clock in the future is not trusted": {
			obs:  Observation{Now: t0, Created: old, UnreferencedSince: t0.Add(time.Hour), Grace: grace},
			want: Decision{UnreferencedSince: t0, RequeueAfter: grace},
		},
		"a ConfigMap created in the future (clock skew) waits for the grace after its creation": {
			obs:  Observation{Now: t0, Created: t0.Add(time.Minute), UnreferencedSince: t0.Add(-time.Hour), Grace: grace},
			want: Decision{UnreferencedSince: t0.Add(-time.Hour), RequeueAfter: 6 * time.Minute},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Decide(tc.obs); got != tc.want {
				t.Errorf("Decide(%+v)\n got  %+v\n want %+v", tc.obs, got, tc.want)
			}
		})
	}
}
