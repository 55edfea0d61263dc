package envoystandin

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Flags are the command-line options the stand-in accepts: those the injected envoy
// container passes (webhook/inject/containers.go) and their long or short twins, as Envoy
// spells them.
type Flags struct {
	// ConfigPath is -c / --config-path, the bootstrap file.
	ConfigPath string
	// LogLevel is -l / --log-level. It is checked against Envoy's levels and reported in the
	// start event; the stand-in's own JSON events are always written (tests read them).
	LogLevel string
	// ServiceNode is --service-node, Envoy's node.id override ($(POD_NAME).$(POD_NAMESPACE)
	// once the kubelet has expanded it); the spans carry it as the node_id tag, as Envoy's do.
	ServiceNode string
	// ServiceCluster is --service-cluster, the node.cluster override: the service name the
	// Zipkin spans carry. Empty: the bootstrap's node.cluster.
	ServiceCluster string
	// DisableHotRestart is --disable-hot-restart; the stand-in never hot-restarts anyway.
	DisableHotRestart bool
	// Concurrency is --concurrency, Envoy's worker threads; the stand-in sets GOMAXPROCS to
	// it. Zero: left to the Go runtime.
	Concurrency int
}

// logLevels are the values Envoy's --log-level takes.
var logLevels = []string{"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}

// ParseFlags parses the stand-in's arguments (without the program name). It refuses what
// Envoy would refuse, an unknown flag, a positional argument or a missing bootstrap path, so
// that a change of the injected command line fails here as it would with the real Envoy
// rather than being silently ignored.
func ParseFlags(args []string) (Flags, error) {
	var f Flags
	fs := flag.NewFlagSet("envoy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, name := range []string{"c", "config-path"} {
		fs.StringVar(&f.ConfigPath, name, "", "path to the bootstrap")
	}
	for _, name := range []string{"l", "log-level"} {
		fs.StringVar(&f.LogLevel, name, "info", "log level")
	}
	fs.StringVar(&f.ServiceNode, "service-node", "", "node.id")
	fs.StringVar(&f.ServiceCluster, "service-cluster", "", "node.cluster")
	fs.BoolVar(&f.DisableHotRestart, "disable-hot-restart", false, "no hot restart")
	fs.IntVar(&f.Concurrency, "concurrency", 0, "worker threads")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Flags{}, fmt.Errorf("envoy stand-in: no help here; it accepts %s", accepted)
		}
		return Flags{}, fmt.Errorf("envoy stand-in: %w (it accepts %s, as Envoy spells them)", err, accepted)
	}
	if fs.NArg() > 0 {
		return Flags{}, fmt.Errorf("envoy stand-in: unexpected argument %q (it accepts %s)", fs.Arg(0), accepted)
	}
	if f.ConfigPath == "" {
		return Flags{}, errors.New("envoy stand-in: no bootstrap: pass -c PATH (or --config-path PATH)")
	}
	if f.Concurrency < 0 {
		return Flags{}, fmt.Errorf("envoy stand-in: --concurrency %d: a number of threads is 0 or more", f.Concurrency)
	}
	if !slices.Contains(logLevels, f.LogLevel) {
		return Flags{}, fmt.Errorf("envoy stand-in: --log-level %q is not one of Envoy's levels (%s)", f.LogLevel, strings.Join(logLevels, ", "))
	}
	return f, nil
}

// accepted lists the flags, for error messages.
const accepted = "-c/--config-path, -l/--log-level, --service-node, --service-cluster, --disable-hot-restart and --concurrency"
