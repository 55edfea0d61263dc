// Package scale holds the re-bootstrap scale test (TestRebootstrapScale, run only with
// OSM_SCALE=1) and, in controller/, a command that runs the re-bootstrap controller alone so
// that its memory and CPU can be measured apart from the webhook:
//
//	OSM_SCALE=1 go test -v -timeout 90m ./hack/scale/
//
// OSM_SCALE_DEPLOYMENTS (1000), OSM_SCALE_NAMESPACES (20) and OSM_SCALE_MAX_CONCURRENT (50)
// change the fleet and the rollout bound.
package scale
