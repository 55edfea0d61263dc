package rebootstrap

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func decision(name string, s State, optedOut bool) Decision {
	kind := bootstrap.KindDeployment
	if strings.HasPrefix(name, "pod-") {
		kind = bootstrap.KindPod
	}
	return Decision{Ref: Ref{Kind: kind, Namespace: "ns", Name: name}, State: s, OptedOut: optedOut}
}

func TestSummarize(t *testing.T) {
	ds := []Decision{
		decision("u1", StateUpdated, false),
		decision("u2", StateUpdated, false),
		decision("r", StateRolling, false),
		decision("p", StatePending, false),
		decision("f", StateFailed, false),
		decision("o", StateOptedOut, true),
		decision("so", StateStale, true),
		decision("sb", StateStale, false),
		decision("i", StateInvalid, false),
		decision("pod-x", StateStale, false),
		decision("od", StateOutdated, false),
		decision("pod-y", StateOutdated, false),
	}
	s := Summarize(ds)
	want := Summary{
		Workloads: 10, Updated: 2, Rolling: 1, Pending: 1, Failed: 1, Invalid: 1, Stale: 3, OptedOut: 2, Outdated: 2,
		FailedWorkloads:   []string{"Deployment/ns/f"},
		StaleWorkloads:    []string{"Deployment/ns/so", "Deployment/ns/sb", "Pod/ns/pod-x"},
		OutdatedWorkloads: []string{"Deployment/ns/od", "Pod/ns/pod-y"},
		InvalidWorkloads:  []string{"Deployment/ns/i"},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	st := s.Status("t1")
	wantStatus := &v1alpha2.RebootstrapStatus{
		Target: "t1", Workloads: 10, Updated: 2, Rolling: 1, Pending: 1, Failed: 1, Stale: 3, OptedOut: 2, Outdated: 2, Invalid: 1,
		FailedWorkloads: want.FailedWorkloads, StaleWorkloads: want.StaleWorkloads, OutdatedWorkloads: want.OutdatedWorkloads,
		InvalidWorkloads: want.InvalidWorkloads,
	}
	if diff := cmp.Diff(wantStatus, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	gauges := s.Gauges()
	if gauges["opted_out"] != 2 || gauges["stale"] != 3 || gauges["updated"] != 2 || gauges["outdated"] != 2 || len(gauges) != 9 {
		t.Errorf("gauges %v", gauges)
	}
}

func TestStatusListsAreBounded(t *testing.T) {
	var ds []Decision
	for i := range MaxListed + 10 {
		ds = append(ds, decision(fmt.Sprintf("s%03d", i), StateStale, true))
	}
	st := Summarize(ds).Status("t")
	if st.Stale != int32(MaxListed+10) || len(st.StaleWorkloads) != MaxListed || st.StaleWorkloads[0] != "Deployment/ns/s000" {
		t.Errorf("stale %d, listed %d, first %s", st.Stale, len(st.StaleWorkloads), st.StaleWorkloads[0])
	}
	if empty := Summarize(nil).Status("t"); empty.FailedWorkloads != nil || empty.Workloads != 0 {
		t.Errorf("empty status %+v", empty)
	}
}

func TestConditions(t *testing.T) {
	tests := map[string]struct {
		s                        Summary
		hold                     string
		progressing, degraded    metav1.ConditionStatus
		pReason, dReason         string
		pMessageHas, dMessageHas string
	}{
		"rolling workloads: progressing": {
			s:           Summary{Workloads: 6, Rolling: 2, Pending: 3, Updated: 1},
			progressing: metav1.ConditionTrue, pReason: ReasonRollingOut, degraded: metav1.ConditionFalse, dReason: ReasonAsExpected,
			pMessageHas: "rolling to target T: 2 rolling, 3 pending, 1 of 6 workloads updated (at most 2 at once)",
		},
		"pending only, held: progressing with the hold": {
			s: Summary{Workloads: 2, Pending: 2}, hold: "settling",
			progressing: metav1.ConditionTrue, pReason: ReasonRollingOut, degraded: metav1.ConditionFalse, dReason: ReasonAsExpected,
			pMessageHas: "; settling",
		},
		"a failure: paused and degraded, naming it": {
			s:           Summary{Workloads: 3, Failed: 1, Pending: 2, FailedWorkloads: []string{"Deployment/ns/broken"}},
			progressing: metav1.ConditionFalse, pReason: ReasonRolloutPaused, degraded: metav1.ConditionTrue, dReason: ReasonRolloutFailed,
			pMessageHas: "paused: the rollout of Deployment/ns/broken failed; 2 workloads wait",
			dMessageHas: "the rollout of Deployment/ns/broken failed",
		},
		"many failures are named up to five": {
			s:           Summary{Workloads: 7, Failed: 7, FailedWorkloads: []string{"a", "b", "c", "d", "e", "f", "g"}},
			progressing: metav1.ConditionFalse, pReason: ReasonRolloutPaused, degraded: metav1.ConditionTrue, dReason: ReasonRolloutFailed,
			dMessageHas: "a, b, c, d, e and 2 more failed",
		},
		"nothing to roll: complete, with what was left out": {
			s:           Summary{Workloads: 4, Updated: 2, Stale: 1, OptedOut: 1, Invalid: 1, StaleWorkloads: []string{"Deployment/ns/o"}, InvalidWorkloads: []string{"Deployment/ns/i"}},
			progressing: metav1.ConditionFalse, pReason: ReasonRolloutComplete, degraded: metav1.ConditionFalse, dReason: ReasonAsExpected,
			pMessageHas: "runs target T (2 updated of 4); 1 stale (never restarted: Deployment/ns/o), 1 opted out, 1 invalid (Deployment/ns/i)",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cs := Conditions(tt.s, "T", 7, 2, tt.hold)
			if len(cs) != 2 || cs[0].Type != ConditionProgressing || cs[1].Type != ConditionDegraded {
				t.Fatalf("conditions %+v", cs)
			}
			p, d := cs[0], cs[1]
			if p.Status != tt.progressing || p.Reason != tt.pReason || d.Status != tt.degraded || d.Reason != tt.dReason {
				t.Errorf("Progressing %s/%s, Degraded %s/%s", p.Status, p.Reason, d.Status, d.Reason)
			}
			if !strings.Contains(p.Message, tt.pMessageHas) || !strings.Contains(d.Message, tt.dMessageHas) {
				t.Errorf("messages %q / %q", p.Message, d.Message)
			}
			if p.ObservedGeneration != 7 || d.ObservedGeneration != 7 {
				t.Errorf("observed generations %d %d", p.ObservedGeneration, d.ObservedGeneration)
			}
		})
	}
}

func TestInvalidConditions(t *testing.T) {
	cs := InvalidConditions(errors.New("spec.observability.tracing.port: 0"), 3)
	if cs[0].Status != metav1.ConditionFalse || cs[0].Reason != ReasonInvalidMeshConfig ||
		cs[1].Status != metav1.ConditionTrue || !strings.Contains(cs[1].Message, "port: 0") {
		t.Errorf("conditions %+v", cs)
	}
}
