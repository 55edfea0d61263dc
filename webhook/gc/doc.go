// Package gc deletes the bootstrap ConfigMaps no pod uses any more.
//
// A managed ConfigMap (label app.kubernetes.io/managed-by=osm-injector) in namespace N with
// hash label H is referenced iff a pod in N carries the label
// tracing.openservicemesh.io/bootstrap-hash=H: the hash covers the service name, so it
// identifies the ConfigMap. The controller remembers since when each ConfigMap has been
// unreferenced (in memory: a restart restarts the clock, which only keeps ConfigMaps longer)
// and deletes it once it has been unreferenced for the grace period AND is older than the
// grace period (a pod admitted an instant ago may not be visible yet). Deletes carry a UID and
// resourceVersion precondition, so a ConfigMap changed or recreated in between is left alone.
//
// Decide is the pure decision; Reconciler is the thin shell around it. Pods and ConfigMaps are
// read from metadata-only informer caches. Run it leader-elected.
package gc
