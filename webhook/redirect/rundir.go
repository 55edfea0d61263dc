package redirect

import (
	"strings"
	"time"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// What osm-init leaves for the sidecar besides the redirect, in a folder both containers
// mount (an emptyDir): its own binary, which Envoy's preStop hook runs to drain Envoy (the
// Envoy image has no tool to call the admin interface with, and nothing in it is ours), and
// the path Envoy reads its bootstrap from, a symbolic link to the rendering that fits the
// node (only the node knows whether its kernel has IPv6; the pod is admitted before it is
// scheduled). The injector writes these flags and paths; osm-init reads them.
const (
	// RunDirFlag names the folder (--run-dir=DIR) osm-init prepares. Without it osm-init
	// installs the redirect alone.
	RunDirFlag = "--run-dir"
	// BootstrapDirFlag names the folder (--bootstrap-dir=DIR) where the Envoy container mounts
	// the bootstrap ConfigMap, which holds bootstrap.BootstrapKey (dual-stack) and
	// bootstrap.BootstrapIPv4Key (for a kernel without IPv6). The link points into it.
	BootstrapDirFlag = "--bootstrap-dir"
	// DrainCommand is osm-init's subcommand for Envoy's preStop hook: `osm-init drain`.
	DrainCommand = "drain"
	// BinaryName is osm-init's copy of itself in the run folder.
	BinaryName = "osm-init"
)

// DrainHold is how long the drain keeps Envoy running, at least, once the pod starts
// terminating: Envoy's SIGTERM comes only after the hook returns (and after the app's
// containers exited). By then every caller connection to the pod was either closed by
// Envoy after a response (the drain answers with Connection: close, or GOAWAY: config
// checked by bootstrap's rules table, Envoy's reaction is not run here), or stayed
// idle the whole time and was closed by the caller's own sidecar, whose upstream idle timeout
// (bootstrap.UpstreamIdleTimeout) is shorter: Envoy exits with no caller connection left to
// lose a request on.
const DrainHold = bootstrap.UpstreamIdleTimeout + time.Second

// BinaryPath is osm-init's copy of itself in the run folder dir.
func BinaryPath(dir string) string { return dir + "/" + BinaryName }

// BootstrapLink is the bootstrap path Envoy reads in the run folder dir, a link to one of the
// ConfigMap's renderings.
func BootstrapLink(dir string) string { return dir + "/" + bootstrap.BootstrapKey }

// SplitArgs separates osm-init's run-folder flags (RunDirFlag, BootstrapDirFlag, each as
// FLAG=DIR) from the rest of args, which are the redirect's (for Parse) and any other.
func SplitArgs(args []string) (rest []string, runDir, bootstrapDir string) {
	rest = make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, RunDirFlag+"="):
			runDir = strings.TrimPrefix(a, RunDirFlag+"=")
		case strings.HasPrefix(a, BootstrapDirFlag+"="):
			bootstrapDir = strings.TrimPrefix(a, BootstrapDirFlag+"=")
		default:
			rest = append(rest, a)
		}
	}
	return rest, runDir, bootstrapDir
}
