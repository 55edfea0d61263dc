// Package rebootstrap rolls the injected workloads whose effective Envoy bootstrap changed.
//
// Envoy reads its bootstrap only when it starts, so a MeshConfig change reaches only new pods.
// This package's controller follows the MeshConfig and, for every injected Deployment,
// StatefulSet and DaemonSet, computes the bootstrap hash its pods would get now (the same
// bootstrap.Resolve and bootstrap.Generate the webhook calls, fed with the pod template's
// annotations and labels and its namespace's annotations). Where that hash differs from what
// the workload runs, it stamps the pod template annotation
// tracing.openservicemesh.io/bootstrap-hash with the new hash, and the workload rolls with
// its own update strategy.
//
// The package has two halves:
//
//   - a pure planner (Collect, Plan, Summarize, Conditions): cluster objects in, per-workload
//     states and the workloads to stamp now out, with no client, clock or randomness;
//   - a thin controller-runtime reconciler (Setup) that reads a leader-only cache, stamps with
//     a merge patch under the field manager osm-injector-rebootstrap, writes the MeshConfig
//     status with server-side apply, emits Events and exports Prometheus metrics.
//
// What a workload runs now: its template annotation once stamped. A workload never stamped
// (created before any MeshConfig change) has no annotation; its pods carry the hash as a
// label, set by the webhook. A workload is rolled when it is not stamped with the target and
// some live pod of it runs another hash; one whose pods all run the target already is left
// alone (so the first start of the controller rolls nothing that is current).
//
// Settings, not rendering: the webhook labels each pod with its bootstrap hash and with the
// hash of the settings that bootstrap was generated from (bootstrap.SettingsHash). A pod on
// another bootstrap than its target but with the target's settings hash runs the same
// settings rendered by another osm-injector version: the workload is outdated, not changed,
// so upgrading the injector rolls nothing by itself. Outdated workloads are counted in the
// status and rolled only when asked: the MeshConfig's spec.rebootstrap.onUpgrade: true (same
// bound and health gate), or osm proxy rollout --outdated. Pods without the settings label
// were admitted by an injector older than the label; what they run is unknown, and the
// likeliest cause of their different bootstrap is the upgrade itself, so they count as
// outdated too (a settings change made before they restart does not roll them either; the
// status names them). A pod on the target bootstrap is current whatever its labels say.
//
// Bounded and health-gated: at most MaxConcurrent workloads roll at once; a workload stamped
// with the target is rolling until its controller reports the rollout complete; a Deployment
// whose progress deadline is exceeded is failed, and while any workload is failed no new
// rollout starts (the MeshConfig reports Degraded=True, reason RolloutFailed). The pause lifts
// when the failure clears or when the MeshConfig changes again (the failed workload then has a
// new target and is pending again).
//
// Crash-safe: every decision is derived from what the cluster shows (annotations, pod labels,
// workload status), so a restarted injector resumes without stamping anything twice. The only
// in-memory state is a short-lived record of stamps the cache has not observed yet and the
// de-duplication of Events.
//
// Self-healing: with failurePolicy Ignore, pods admitted while the webhook was down (or before
// their namespace was labelled) run without the sidecar. The cache holds the metadata of every
// pod, so a live pod of a followed workload without the bootstrap-hash label counts as
// uninjected. A workload with such pods that is not rolled anyway (pending, rolling, failed)
// is uninjected, and healed like a pending workload (same bound, same pause): its template is
// stamped with its target and the annotation rebootstrap.openservicemesh.io/healed
// (generation=<G>,at=<time>, G the generation before the heal), which changes the template
// even when it already carries the target. Heals wait for Options.HealReady (the webhook
// serves with a valid certificate its caBundle trusts, and the API server can reach it
// through its Service), so the new pods get injected; and a workload is healed
// at most once per generation: when its new pods still lack the sidecar, it is reported and
// left alone until its spec changes. Opted-out and blocked workloads, and bare pods, are
// reported only (uninjected count, SidecarMissing Events).
//
// Opt-out: a workload annotated tracing.openservicemesh.io/auto-rebootstrap: "false" is never
// touched; when its pods run an old bootstrap it is reported as stale, like bare pods (pods no
// Deployment, StatefulSet or DaemonSet owns) and workloads whose update strategy cannot roll
// them (a paused Deployment, the OnDelete strategy).
//
// Memory: the controller's cache holds, of each workload, its WorkloadRecord (what the
// planner reads of it, made by the cache's transform at every event) and, of each pod, its
// metadata, with the strings thousands of objects repeat shared; a pass reads the cache's
// own objects, never copies. 10,000 one-replica Deployments and their pods fit in about 45 MiB
// of live heap.
package rebootstrap
