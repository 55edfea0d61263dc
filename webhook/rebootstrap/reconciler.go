package rebootstrap

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// resyncWhileRolling is how often the controller looks again while workloads roll, besides
// the events of the workloads themselves.
const resyncWhileRolling = 15 * time.Second

// hashSweepEvery is how often the controller lets the bootstrap memo forget the settings no
// workload resolves to any more (bootstrap.Cache.Sweep after a pass): after a MeshConfig
// change, every workload's old settings go within twice that, instead of piling up with each
// change (a few hundred bytes per workload and change).
const hashSweepEvery = 10 * time.Minute

// Reconciler rolls the injected workloads whose bootstrap changed. There is one work item,
// the MeshConfig; every event of a workload, pod or namespace enqueues it. Build it with
// Setup, or fill the exported fields and call Reconcile (tests).
type Reconciler struct {
	// Reader reads the controller's cache: the MeshConfig, namespaces, Deployments,
	// StatefulSets, DaemonSets and the metadata of the pods labelled with a bootstrap hash.
	Reader client.Reader
	// Client writes: template stamps and the MeshConfig status.
	Client client.Client
	// Recorder emits Events on the MeshConfig and the workloads.
	Recorder events.EventRecorder
	// Key names the MeshConfig.
	Key     types.NamespacedName
	Options Options
	Log     logr.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	hasher Hasher
	// lastPass is how long the last reconcile took (nanoseconds), see batchDelay.
	lastPass atomic.Int64
	stamps   stampLedger
	settle   settleClock
	reports  reportLedger
	// lastSweep is when the memo was last swept (sweepHashes).
	lastSweep time.Time
}

// batchDelay is how long a workload or pod event waits before the reconcile it asks for:
// workloadBatch, or as long as the last pass took when that was longer, so that with many
// workloads rolling the controller spends at most half its time planning.
func (r *Reconciler) batchDelay() time.Duration {
	return max(workloadBatch, time.Duration(r.lastPass.Load()))
}

// Reconcile plans and starts the rollouts the MeshConfig's settings call for, and reports.
func (r *Reconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	began := time.Now()
	defer func() { r.lastPass.Store(int64(time.Since(began))) }()
	log := r.Log.WithValues("meshConfig", r.Key)
	mc := &v1alpha2.MeshConfig{}
	if err := r.Reader.Get(ctx, r.Key, mc); err != nil {
		if apierrors.IsNotFound(err) {
			log.V(1).Info("no MeshConfig: nothing to roll")
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("when reading MeshConfig %s: %w", r.Key, err)
	}
	if mc.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	tracing, err := bootstrap.MeshTracing(r.Options.Defaults, &mc.Spec.Observability)
	if err != nil {
		log.Info("the MeshConfig's tracing settings are invalid: rolling nothing", "reason", err.Error())
		return reconcile.Result{}, r.reportInvalid(ctx, mc, err)
	}
	target := MeshTarget(tracing)

	snap, err := r.snapshot(ctx, mc)
	if err != nil {
		return reconcile.Result{}, err
	}
	workloads, bare := Collect(snap, r.hasher.Hash)
	r.sweepHashes()
	r.stamps.apply(workloads)
	hold, wait := r.settle.hold(target, r.now(), r.Options.SettleDelay)
	healWait := ""
	if r.Options.HealReady != nil {
		if err := r.Options.HealReady(); err != nil {
			healWait = err.Error()
		}
	}
	plan := Plan(Input{
		Workloads: workloads, BarePods: bare, MaxConcurrent: r.Options.MaxConcurrent,
		RollOutdated: mc.Spec.Rebootstrap.OnUpgrade,
		Hold:         hold != "", HoldReason: hold,
		HealWait: healWait,
	})
	stampErr := r.stampPlanned(ctx, log, mc, plan.Decisions)
	sum := Summarize(plan.Decisions)
	if err := r.report(ctx, mc, target, sum, plan.Decisions, hold); err != nil {
		return reconcile.Result{}, errors.Join(stampErr, err)
	}
	if stampErr != nil {
		return reconcile.Result{}, stampErr
	}
	log.V(1).Info("reconciled", "target", target, "updated", sum.Updated, "rolling", sum.Rolling,
		"pending", sum.Pending, "failed", sum.Failed, "stale", sum.Stale, "outdated", sum.Outdated, "uninjected", sum.Uninjected, "stamped", plan.Stamps)
	switch {
	case hold != "" && plan.Waiting > 0:
		// Pending workloads and heals (a fresh injector holds its first pass) go ahead then.
		return reconcile.Result{RequeueAfter: wait}, nil
	case sum.Rolling+sum.Pending+sum.Failed > 0, healWait != "" && sum.Uninjected > 0:
		return reconcile.Result{RequeueAfter: resyncWhileRolling}, nil
	}
	return reconcile.Result{}, nil
}

// stampPlanned stamps every decision the plan asks to; a stamp that lands turns the
// decision rolling. Errors are joined; the other stamps still go ahead.
func (r *Reconciler) stampPlanned(ctx context.Context, log logr.Logger, mc *v1alpha2.MeshConfig, ds []Decision) error {
	var errs []error
	for i := range ds {
		d := &ds[i]
		if !d.Stamp {
			continue
		}
		var mark *healMark
		if d.Heal {
			mark = &healMark{generation: d.Generation, at: r.now()}
		}
		gen, uid, err := stamp(ctx, r.Client, d.Ref, d.Target, mark)
		if err != nil {
			if apierrors.IsNotFound(err) {
				continue // deleted meanwhile; its delete event brings a new reconcile
			}
			stampErrorsTotal.Inc()
			errs = append(errs, err)
			d.Reason = "stamping failed: " + err.Error()
			continue
		}
		r.stamps.record(d.Ref, uid, d.Target, gen)
		stampedTotal.WithLabelValues(d.Ref.Kind).Inc()
		if d.Heal {
			healedTotal.WithLabelValues(d.Ref.Kind).Inc()
			log.Info("healed a workload whose pods run without the sidecar: it rolls", "workload", d.Ref.String(),
				"target", d.Target, "generation", gen)
			r.workloadEvent(d, mc, eventHealed)
			d.State = StateRolling
			d.Reason = "healed (pods without the sidecar); rolling to bootstrap " + d.Target
			continue
		}
		log.Info("stamped a pod template: the workload rolls", "workload", d.Ref.String(),
			"from", d.Current, "to", d.Target, "generation", gen)
		r.workloadEvent(d, mc, eventStamped)
		d.State = StateRolling
		d.Reason = "stamped with bootstrap " + d.Target + "; rolling"
	}
	return errors.Join(errs...)
}

// sweepHashes sweeps the bootstrap memo every hashSweepEvery, right after a pass asked for
// the hashes of every workload's current settings.
func (r *Reconciler) sweepHashes() {
	now := r.now()
	switch {
	case r.lastSweep.IsZero():
		r.lastSweep = now
	case now.Sub(r.lastSweep) >= hashSweepEvery:
		r.hasher.Sweep()
		r.lastSweep = now
	}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
