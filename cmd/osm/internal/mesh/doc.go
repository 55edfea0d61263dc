// Package mesh installs, finds, describes and removes the osm-tracing control plane: the
// embedded Helm chart installed as a release with the Helm SDK (osm install), the checks that
// refuse a second mesh, the wait with progress until the release's objects are ready, the
// removal (osm uninstall mesh) and the versions of the CLI and of the running injector.
package mesh
