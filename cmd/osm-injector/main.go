// Command osm-injector serves the sidecar-injecting admission webhook and runs its controllers.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/osm-tracing/osm-tracing/cmd/osm-injector/app"
)

// memoryLimitRatio is the share of the container's memory limit the Go heap may use.
const memoryLimitRatio = 0.9

func main() {
	os.Exit(run())
}

func run() int {
	// The garbage collector keeps the process under 90% of its container's memory limit (the
	// cgroup's), collecting more often as it nears it rather than being OOM-killed in a large
	// cluster. Without a limit nothing changes; GOMEMLIMIT, or AUTOMEMLIMIT (another ratio, or
	// "off"), in the environment decide instead. The start-up log line shows the result.
	_, _ = memlimit.Set(memlimit.WithRatio(memoryLimitRatio))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.NewCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "osm-injector:", err)
		return 1
	}
	return 0
}
