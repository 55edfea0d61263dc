// Package version tells the version of the osm CLI (set at build time with
//
//	-ldflags "-X github.com/osm-tracing/osm-tracing/cmd/osm/internal/version.Version=v0.1.0
//	          -X github.com/osm-tracing/osm-tracing/cmd/osm/internal/version.GitCommit=abc1234
//	          -X github.com/osm-tracing/osm-tracing/cmd/osm/internal/version.BuildDate=2026-01-01")
//
// of the injector image of the chart it carries (and of the archive `make image` builds for
// it), and of the injector running in a cluster, read from its Deployment.
package version
