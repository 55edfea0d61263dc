// Package scale holds the re-bootstrap scale test (TestRebootstrapScale, run only with
// OSM_SCALE=1) and, in controller/, a command that runs the re-bootstrap controller alone so
// that its memory and CPU can be measured apart from the webhook:
//
//	OSM_SCALE=1 go test -count=1 -v -timeout 90m ./hack/scale/
//
// OSM_SCALE_DEPLOYMENTS (1000), OSM_SCALE_REPLICAS (1), OSM_SCALE_NAMESPACES (20) and
// OSM_SCALE_MAX_CONCURRENT (50) change the fleet and the rollout bound;
// OSM_SCALE_INJECTOR_FLAGS adds osm-injector flags and OSM_SCALE_INJECTOR_ENV environment
// variables (GOMEMLIMIT=150MiB plays a container's memory limit); OSM_SCALE_PROFILE_DIR
// receives heap profiles (before the patch, after the rollout) and a CPU profile of the
// rollout's first 30 s. OSM_SCALE_ROLLOUT=0 stops after measuring the fleet at rest: RSS
// when every workload is counted, and RSS a minute later, when the Go runtime has returned
// the creation burst's memory (with OSM_SCALE_PROFILE_DIR, the Go heap statistics too).
// OSM_SCALE_FLOORS=kubectl,api then restarts the same fleet at the same concurrency without
// the controller (a kubectl rollout restart + rollout status loop, and the same restart
// patch through client-go), the floors the rollout time is compared with.
//
// The RESULT lines give times, the process's RSS (anonymous and file-backed), its peak
// (VmHWM) and CPU. They measure this machine's control plane as much as the controller: keep
// the machine otherwise idle while it runs.
package scale
