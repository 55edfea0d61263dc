package ociarchive

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// GoBuild compiles the Go package pkg (an import path of the calling module) for platform
// into out: a static binary (CGO_ENABLED=0: images built from scratch have no libc), with no
// file system path (-trimpath) or VCS stamp in it, so that the same source and toolchain give
// the same bytes. goCmd is the go command ("go" when empty); ldflags are passed as they are.
//
// Every setting that changes the binary is named here rather than taken from the
// environment: GOFLAGS is emptied and GOAMD64/GOARM64 are pinned to their baselines, which
// every machine of the architecture runs. A binary that is up to date in out is left alone by
// the go command, so a rebuild with a warm cache is quick.
func GoBuild(ctx context.Context, goCmd string, platform v1.Platform, pkg, out, ldflags string) error {
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", //nolint:gosec // G204: the go command building this module.
		"-ldflags", ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+platform.OS, "GOARCH="+platform.Architecture,
		"GOFLAGS=", "GOAMD64=v1", "GOARM64=v8.0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s: %w\n%s", pkg, platform.String(), err, stderr.String())
	}
	return nil
}
