package main

import (
	"os"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/nft"
)

// terminationLog is where the kubelet reads a container's termination message
// (terminationMessagePath's default).
const terminationLog = "/dev/termination-log"

func main() {
	// 0: the process's own network namespace, the pod's.
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nft.Kernel(0), terminationLog))
}
