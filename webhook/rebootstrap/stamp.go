package rebootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// FieldOwner is the field manager of the stamps and of the MeshConfig status fields this
// controller writes.
const FieldOwner = "osm-injector-rebootstrap"

// stamp sets the pod template annotation bootstrap-hash of the workload ref to hash with a
// JSON merge patch (nothing else of the template is touched; stamping the same value twice
// is a no-op), and returns the workload's generation and UID after the patch.
//
// heal, when set, also writes HealAnnotation with generation and now (see HealPatch).
func stamp(ctx context.Context, c client.Client, ref Ref, hash string, heal *healMark) (int64, types.UID, error) {
	var body []byte
	var err error
	if heal != nil {
		body, err = HealPatch(hash, heal.generation, heal.at)
	} else {
		body, err = StampPatch(hash)
	}
	if err != nil {
		return 0, "", fmt.Errorf("when encoding the stamp of %s: %w", ref, err)
	}
	obj, err := patchWorkload(ctx, c, ref, body, FieldOwner)
	if err != nil {
		return 0, "", fmt.Errorf("when stamping %s with bootstrap hash %s: %w", ref, hash, err)
	}
	return obj.GetGeneration(), obj.GetUID(), nil
}

// Stamp stamps the workload ref with hash as the controller does (StampPatch), under the
// field manager owner: osm proxy rollout's way to roll what the controller would.
func Stamp(ctx context.Context, c client.Client, ref Ref, hash, owner string) error {
	body, err := StampPatch(hash)
	if err != nil {
		return fmt.Errorf("when encoding the stamp of %s: %w", ref, err)
	}
	if _, err := patchWorkload(ctx, c, ref, body, owner); err != nil {
		return fmt.Errorf("when stamping %s with bootstrap hash %s: %w", ref, hash, err)
	}
	return nil
}

// patchWorkload applies a JSON merge patch to the Deployment, StatefulSet or DaemonSet ref
// and returns it as patched.
func patchWorkload(ctx context.Context, c client.Client, ref Ref, body []byte, owner string) (client.Object, error) {
	var obj client.Object
	switch ref.Kind {
	case bootstrap.KindDeployment:
		obj = &appsv1.Deployment{}
	case bootstrap.KindStatefulSet:
		obj = &appsv1.StatefulSet{}
	case bootstrap.KindDaemonSet:
		obj = &appsv1.DaemonSet{}
	default:
		return nil, fmt.Errorf("only Deployments, StatefulSets and DaemonSets are stamped, not a %s", ref.Kind)
	}
	obj.SetNamespace(ref.Namespace)
	obj.SetName(ref.Name)
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, body), client.FieldOwner(owner)); err != nil {
		return nil, err
	}
	return obj, nil
}

// StampPatch is the JSON merge patch that stamps a workload's pod template with the
// bootstrap hash: the controller's stamp, and osm proxy rollout's.
func StampPatch(hash string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"annotations": map[string]string{bootstrap.BootstrapHashKey: hash},
		}}},
	})
}

// HealAnnotation is the pod template annotation a heal writes: "generation=<G>,at=<RFC3339>",
// G being the workload's generation before the heal. Like kubectl rollout restart's
// kubectl.kubernetes.io/restartedAt, a new value changes the template, so the workload rolls
// even when it is already stamped with its target (stamping the same hash again changes
// nothing). It is not under tracing.openservicemesh.io/, whose unknown keys bootstrap.Resolve
// refuses, and it is not kubectl's key, whose value kubectl rollout restart overwrites with a
// bare time: the generation in the value is what keeps a workload from being healed twice at
// one generation.
const HealAnnotation = "rebootstrap.openservicemesh.io/healed"

// healMark is what a heal writes into HealAnnotation.
type healMark struct {
	generation int64
	at         time.Time
}

// HealPatch is the JSON merge patch of a heal: the stamp with hash, and HealAnnotation.
func HealPatch(hash string, generation int64, at time.Time) ([]byte, error) {
	return json.Marshal(map[string]any{
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"annotations": map[string]string{
				bootstrap.BootstrapHashKey: hash,
				HealAnnotation:             HealValue(generation, at),
			},
		}}},
	})
}

// HealValue is HealAnnotation's value for a heal at generation, at time at.
func HealValue(generation int64, at time.Time) string {
	return "generation=" + strconv.FormatInt(generation, 10) + ",at=" + at.UTC().Format(time.RFC3339)
}

// HealedGeneration reads the generation out of a HealAnnotation value; 0 when absent or
// malformed (a workload whose mark cannot be read may be healed once more).
func HealedGeneration(v string) int64 {
	for part := range strings.SplitSeq(v, ",") {
		if g, ok := strings.CutPrefix(strings.TrimSpace(part), "generation="); ok {
			if n, err := strconv.ParseInt(g, 10, 64); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// stampLedger remembers the stamps the cache has not shown yet, so that the next reconcile
// neither counts a just-stamped workload as pending (and overshoots the concurrency bound)
// nor stamps it again. An entry goes once the cache holds the stamped generation. Lost on a
// restart, which is fine: a new cache is listed fresh.
type stampLedger struct {
	mu sync.Mutex
	m  map[Ref]stampRecord
}

type stampRecord struct {
	uid        types.UID
	hash       string
	generation int64
}

func (l *stampLedger) record(ref Ref, uid types.UID, hash string, generation int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[Ref]stampRecord{}
	}
	l.m[ref] = stampRecord{uid: uid, hash: hash, generation: generation}
}

// apply overrides the workloads the cache shows older than their stamp: stamped with the
// recorded hash and rolling. Records of workloads the cache caught up with, or that are gone
// or were recreated, are dropped.
func (l *stampLedger) apply(ws []Workload) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) == 0 {
		return
	}
	seen := make(map[Ref]bool, len(l.m))
	for i := range ws {
		w := &ws[i]
		rec, ok := l.m[w.Ref]
		if !ok {
			continue
		}
		seen[w.Ref] = true
		if w.UID != rec.uid || w.Generation >= rec.generation {
			delete(l.m, w.Ref)
			continue
		}
		w.Stamped = rec.hash
		w.Rollout = progressing("stamped at generation %d; waiting for the cache to show it", rec.generation)
	}
	for ref := range l.m {
		if !seen[ref] {
			delete(l.m, ref)
		}
	}
}

// settleClock holds new rollouts back for a moment after the target changes, so that the
// webhook (whose MeshConfig informer is separate) already answers with the new settings when
// the first new pods are created, and so that a burst of MeshConfig edits rolls once.
type settleClock struct {
	mu     sync.Mutex
	target string
	since  time.Time
}

// hold returns why rollouts wait and for how long, or "" once the target has been the same
// for delay.
func (c *settleClock) hold(target string, now time.Time, delay time.Duration) (string, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target != target {
		c.target, c.since = target, now
	}
	left := delay - now.Sub(c.since)
	if left <= 0 {
		return "", 0
	}
	return fmt.Sprintf("the tracing settings changed %s ago; rollouts start once they are unchanged for %s",
		now.Sub(c.since).Round(time.Millisecond), delay), left
}
