package app

// Version and GitCommit describe the osm-injector build. `make image` (hack/image) sets them
// with
//
//	-ldflags "-X github.com/osm-tracing/osm-tracing/cmd/osm-injector/app.Version=0.1.0
//	          -X github.com/osm-tracing/osm-tracing/cmd/osm-injector/app.GitCommit=<commit>"
//
// to the chart's appVersion and the commit it builds; `osm-injector --version` prints them.
var (
	Version   = "dev"
	GitCommit = ""
)

// versionString is Version, followed by the commit when one is known.
func versionString() string {
	if GitCommit == "" {
		return Version
	}
	return Version + " (commit " + GitCommit + ")"
}
