package rollout

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/webhook/rebootstrap"
)

// OutdatedPlan returns the decisions of the controller's planner for f with outdated
// workloads asked to roll (as spec.rebootstrap.onUpgrade does), all at once, and which of
// them are outdated: the stamps it asks for on those are what osm proxy rollout --outdated
// writes. Opted-out and blocked workloads and bare pods stay outdated; while a rollout is
// failed the planner stamps nothing (the controller's health gate).
func OutdatedPlan(f *Facts) (plan rebootstrap.Result, outdated map[rebootstrap.Ref]bool) {
	plain := rebootstrap.Plan(rebootstrap.Input{Workloads: f.Workloads, BarePods: f.BarePods, MaxConcurrent: 1})
	outdated = map[rebootstrap.Ref]bool{}
	for _, d := range plain.Decisions {
		if d.State == rebootstrap.StateOutdated {
			outdated[d.Ref] = true
		}
	}
	plan = rebootstrap.Plan(rebootstrap.Input{
		Workloads: f.Workloads, BarePods: f.BarePods, MaxConcurrent: len(f.Workloads), RollOutdated: true,
	})
	return plan, outdated
}

// StampOutdated stamps every outdated workload the planner would roll (in namespace ns, or
// every namespace when ns is ""), with the controller's stamp, and reports each on out. It
// returns how many it stamped.
func StampOutdated(ctx context.Context, c client.Client, f *Facts, ns string, out io.Writer) (int, error) {
	plan, outdated := OutdatedPlan(f)
	stamped, left := 0, 0
	for _, d := range plan.Decisions {
		if !outdated[d.Ref] || (ns != "" && d.Ref.Namespace != ns) {
			continue
		}
		if !d.Stamp {
			left++
			fmt.Fprintf(out, "not rolled %s: %s\n", d.Ref, d.Reason)
			continue
		}
		if err := stamp(ctx, c, d.Ref, d.Target); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return stamped, err
		}
		stamped++
		fmt.Fprintf(out, "rolled %s: bootstrap %s -> %s\n", d.Ref, d.Current, d.Target)
	}
	if stamped+left == 0 {
		fmt.Fprintln(out, "no outdated workload: every injected workload runs the bootstrap this osm renders for its settings")
		return 0, nil
	}
	fmt.Fprintf(out, "%d outdated workloads stamped (they roll with their own update strategy), %d left as they are\n", stamped, left)
	return stamped, nil
}

func stamp(ctx context.Context, c client.Client, ref rebootstrap.Ref, hash string) error {
	return rebootstrap.Stamp(ctx, c, ref, hash, FieldOwner)
}
