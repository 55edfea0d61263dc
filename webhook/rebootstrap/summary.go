package rebootstrap

import (
	"math"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// MaxListed bounds each list of names in the MeshConfig status; the counts stay exact.
const MaxListed = 50

// Summary counts decisions the way the MeshConfig status and the metrics report them.
type Summary struct {
	// Workloads counts workloads (bare pods are not workloads).
	Workloads int
	// Updated, Rolling, Pending, Failed and Invalid count workloads in that state.
	Updated, Rolling, Pending, Failed, Invalid int
	// Stale counts stale workloads and stale bare pods; Outdated outdated ones.
	Stale, Outdated int
	// Uninjected counts workloads and bare pods with live pods without the sidecar.
	Uninjected int
	// OptedOut counts opted-out workloads, stale or not.
	OptedOut int
	// FailedWorkloads, StaleWorkloads, OutdatedWorkloads and InvalidWorkloads name them
	// (kind/namespace/name), in rollout order.
	FailedWorkloads, StaleWorkloads, OutdatedWorkloads, InvalidWorkloads, UninjectedWorkloads []string
}

// Summarize counts decisions. A decision still marked pending with Stamp set counts as
// pending: the reconciler sets State to rolling once the stamp landed.
func Summarize(ds []Decision) Summary {
	var s Summary
	for i := range ds {
		d := &ds[i]
		if d.Ref.Kind != bootstrap.KindPod {
			s.Workloads++
		}
		if d.OptedOut {
			s.OptedOut++
		}
		switch d.State {
		case StateUpdated:
			s.Updated++
		case StateRolling:
			s.Rolling++
		case StatePending:
			s.Pending++
		case StateFailed:
			s.Failed++
			s.FailedWorkloads = append(s.FailedWorkloads, d.Ref.String())
		case StateStale:
			s.Stale++
			s.StaleWorkloads = append(s.StaleWorkloads, d.Ref.String())
		case StateOutdated:
			s.Outdated++
			s.OutdatedWorkloads = append(s.OutdatedWorkloads, d.Ref.String())
		case StateInvalid:
			s.Invalid++
			s.InvalidWorkloads = append(s.InvalidWorkloads, d.Ref.String())
		case StateUninjected:
			s.Uninjected++
			s.UninjectedWorkloads = append(s.UninjectedWorkloads, d.Ref.String())
		case StateOptedOut:
		}
	}
	return s
}

// Status is the re-bootstrap part of the MeshConfig status for target.
func (s Summary) Status(target string) *v1alpha2.RebootstrapStatus {
	return &v1alpha2.RebootstrapStatus{
		Target:              target,
		Workloads:           count32(s.Workloads),
		Updated:             count32(s.Updated),
		Rolling:             count32(s.Rolling),
		Pending:             count32(s.Pending),
		Failed:              count32(s.Failed),
		Stale:               count32(s.Stale),
		OptedOut:            count32(s.OptedOut),
		Outdated:            count32(s.Outdated),
		Invalid:             count32(s.Invalid),
		Uninjected:          count32(s.Uninjected),
		FailedWorkloads:     firstN(s.FailedWorkloads, MaxListed),
		StaleWorkloads:      firstN(s.StaleWorkloads, MaxListed),
		OutdatedWorkloads:   firstN(s.OutdatedWorkloads, MaxListed),
		InvalidWorkloads:    firstN(s.InvalidWorkloads, MaxListed),
		UninjectedWorkloads: firstN(s.UninjectedWorkloads, MaxListed),
	}
}

// Gauges returns the value of every state label of osm_rebootstrap_workloads: the same
// numbers as the status.
func (s Summary) Gauges() map[string]int {
	return map[string]int{
		"updated":    s.Updated,
		"rolling":    s.Rolling,
		"pending":    s.Pending,
		"failed":     s.Failed,
		"stale":      s.Stale,
		"opted_out":  s.OptedOut,
		"outdated":   s.Outdated,
		"invalid":    s.Invalid,
		"uninjected": s.Uninjected,
	}
}

// count32 converts a count for the status, saturating (no cluster holds 2^31 workloads).
func count32(n int) int32 {
	return int32(min(n, math.MaxInt32)) //nolint:gosec // bounded just above
}

func firstN(list []string, n int) []string {
	if len(list) == 0 {
		return nil
	}
	return list[:min(len(list), n):min(len(list), n)]
}
