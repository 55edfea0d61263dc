package main

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseMetrics(t *testing.T) {
	in := `# HELP apiserver_request_total Counter of apiserver requests.
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="POST",version="v1"} 3
apiserver_request_total{code="200",resource="leases",verb="PUT"} 1.5e+01
osm_injector_bootstrap_configmaps_created_total 1
odd{msg="a \"quoted\" value, with a comma}"} 2 1712345678
# TYPE latency histogram
latency_bucket{le="+Inf"} 1
latency_sum 0.5
latency_count 1
`
	got, err := parseMetrics([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []sample{
		{name: "apiserver_request_total", value: 3, labels: map[string]string{"code": "201", "component": "apiserver",
			"dry_run": "", "group": "", "resource": "configmaps", "scope": "resource", "subresource": "", "verb": "POST", "version": "v1"}},
		{name: "apiserver_request_total", value: 15, labels: map[string]string{"code": "200", "resource": "leases", "verb": "PUT"}},
		{name: "osm_injector_bootstrap_configmaps_created_total", value: 1, labels: map[string]string{}},
		{name: "odd", value: 2, labels: map[string]string{"msg": `a "quoted" value, with a comma}`}},
	}
	byName := cmpopts.SortSlices(func(a, b sample) bool { return fmt.Sprint(a) < fmt.Sprint(b) })
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(sample{}), byName); diff != "" {
		t.Errorf("parseMetrics (-want +got):\n%s", diff)
	}
	if _, err := parseMetrics([]byte("broken{a=\"x\" 1\n")); err == nil {
		t.Error("a malformed exposition parsed")
	}
}

func TestDiffCounts(t *testing.T) {
	a := snapshot{created: 1, admissions: 10, writes: map[string]float64{"PUT leases": 4, "POST configmaps": 1}}
	b := snapshot{created: 1, admissions: 110, writes: map[string]float64{"PUT leases": 6, "POST configmaps": 1, "POST events": 2}}
	d := diff(a, b)
	if d.admissions != 100 || d.created != 0 {
		t.Errorf("admissions %v created %v, want 100 and 0", d.admissions, d.created)
	}
	if want := map[string]float64{"PUT leases": 2, "POST events": 2}; !cmp.Equal(d.writes, want) {
		t.Errorf("writes %v, want %v", d.writes, want)
	}
	if d.totalWrites() != 4 || d.configMapWrites() != 0 {
		t.Errorf("total %v configmaps %v, want 4 and 0", d.totalWrites(), d.configMapWrites())
	}
}
