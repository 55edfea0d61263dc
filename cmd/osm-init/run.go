package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/nft"
	"github.com/osm-tracing/osm-tracing/cmd/osm-init/internal/ruleset"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// dryRunFlag prints the rules instead of installing them. It is osm-init's own, not part of
// the redirect: the injector never writes it.
const dryRunFlag = "--dry-run"

// run is osm-init: it returns the exit code. sys is the kernel to program, and
// terminationLog the file that receives the cause of a failure if it exists.
func run(args []string, stdout, stderr io.Writer, sys nft.System, terminationLog string) int {
	if len(args) > 0 && args[0] == redirect.DrainCommand {
		if len(args) > 1 {
			fmt.Fprintf(stderr, "osm-init %s: unexpected arguments %q: it takes none\n", redirect.DrainCommand, args[1:])
			return 2
		}
		return newDrainer().run(context.Background(), stderr)
	}
	args, runDir, bootstrapDir := redirect.SplitArgs(args)
	dryRun := false
	specArgs := make([]string, 0, len(args))
	for _, a := range args {
		switch a {
		case dryRunFlag:
			dryRun = true
		case "-h", "--help":
			fmt.Fprintf(stdout, "usage: osm-init [%s=VALUE] [%s=DIR %s=DIR] [%s]\n       osm-init %s\n",
				strings.Join(redirect.FlagNames(), "=VALUE] ["), redirect.RunDirFlag, redirect.BootstrapDirFlag, dryRunFlag, redirect.DrainCommand)
			return 0
		default:
			specArgs = append(specArgs, a)
		}
	}
	if (runDir == "") != (bootstrapDir == "") || strings.HasPrefix(runDir+bootstrapDir, "-") {
		return fail(stderr, terminationLog, fmt.Errorf("%s=DIR and %s=DIR go together, each with a folder (got %q and %q)",
			redirect.RunDirFlag, redirect.BootstrapDirFlag, runDir, bootstrapDir))
	}
	spec, err := redirect.Parse(specArgs)
	if err != nil {
		return fail(stderr, terminationLog, fmt.Errorf("%w (%s prints the rules without installing them)", err, dryRunFlag))
	}
	if dryRun {
		tables := []ruleset.Table{ruleset.Build(spec, ruleset.IPv4), ruleset.Build(spec, ruleset.IPv6)}
		fmt.Fprintf(stdout, "# osm-init %s: the transaction osm-init sends (`nft -f` reads it); on a kernel without IPv6, the ip table alone\n",
			strings.Join(args, " "))
		fmt.Fprint(stdout, ruleset.Script(tables))
		return 0
	}
	out, err := nft.Install(spec, sys)
	for _, note := range out.Notes {
		fmt.Fprintln(stderr, "osm-init:", note)
	}
	if err != nil {
		return fail(stderr, terminationLog, err)
	}
	for _, t := range out.Installed {
		fmt.Fprintln(stdout, "osm-init:", ruleset.Describe(t))
	}
	if runDir != "" {
		self, err := os.Executable()
		if err != nil {
			return fail(stderr, terminationLog, fmt.Errorf("when finding osm-init's own binary: %w", err))
		}
		key, err := prepareRunDir(runDir, bootstrapDir, self, out.KernelIPv6)
		if err != nil {
			return fail(stderr, terminationLog, err)
		}
		fmt.Fprintf(stdout, "osm-init: Envoy reads %s (%s); its preStop hook runs %s %s\n",
			filepath.Join(bootstrapDir, key), redirect.BootstrapLink(runDir), redirect.BinaryPath(runDir), redirect.DrainCommand)
	}
	return 0
}

// fail reports err on one line, on stderr and in the termination log, and returns the exit
// code of a failure.
func fail(stderr io.Writer, terminationLog string, err error) int {
	line := "osm-init: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintln(stderr, line)
	if werr := writeTerminationLog(terminationLog, line); werr != nil {
		fmt.Fprintln(stderr, "osm-init: the cause could not be written to the termination log:", werr)
	}
	return 1
}

// writeTerminationLog writes line into path if the file exists. The kubelet creates it (a
// bind mount); osm-init never creates it, so a run outside Kubernetes leaves no file behind.
func writeTerminationLog(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0) //nolint:gosec // G304: the kubelet's fixed path, or a test's.
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
