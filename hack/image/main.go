package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osm-tracing/osm-tracing/manifests"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("image: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	out := flag.String("out", "bin", "folder to write the archives into (NAME-<version>.oci.tar)")
	platforms := flag.String("platforms", "linux/amd64,linux/arm64", "comma-separated platforms to build")
	revision := flag.String("revision", "", "git commit for the revision label and the binary (default: git rev-parse HEAD, with -dirty when tracked files changed)")
	goCmd := flag.String("go", "go", "the go command")
	only := flag.String("images", "", "comma-separated names of the images to build (default: all of osm-injector, osm-init)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o, err := defaultOptions(ctx, *revision, os.Getenv("SOURCE_DATE_EPOCH"), log.Printf)
	if err != nil {
		return err
	}
	o.Go = *goCmd
	o.Logf = log.Printf
	if o.Platforms, err = ParsePlatforms(*platforms); err != nil {
		return err
	}
	programs, err := selectPrograms(*only)
	if err != nil {
		return err
	}
	for _, p := range programs {
		o.Program = p
		archive := filepath.Join(*out, o.Archive())
		start := time.Now()
		digest, err := Build(ctx, o, archive)
		if err != nil {
			return err
		}
		log.Printf("wrote %s in %s: %s %s (%s), revision %s, created %s", archive, time.Since(start).Round(100*time.Millisecond), //nolint:gosec // G706: the user's own flags and this checkout's commit.
			o.Ref(), digest, *platforms, o.Revision, o.Created.UTC().Format(time.RFC3339))
	}
	return nil
}

// selectPrograms returns the Programs named in the comma-separated list, all of them when it
// is empty.
func selectPrograms(list string) ([]Program, error) {
	all, err := Programs()
	if err != nil || list == "" {
		return all, err
	}
	var out []Program
	for name := range strings.SplitSeq(list, ",") {
		i := slices.IndexFunc(all, func(p Program) bool { return p.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no image %q: the images are osm-injector and osm-init", name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// defaultOptions takes the version from the chart (its appVersion), the revision from git
// unless given, and the creation time from sourceDateEpoch (SOURCE_DATE_EPOCH) or else the
// commit's time. The program is left for the caller to choose. Outside a git checkout (a
// source archive) the revision is notGit and the creation time, without SOURCE_DATE_EPOCH,
// the epoch (1970-01-01T00:00:00Z): the build stays reproducible, and logf says so.
func defaultOptions(ctx context.Context, revision, sourceDateEpoch string, logf func(string, ...any)) (Options, error) {
	img, err := manifests.DefaultInjectorImage()
	if err != nil {
		return Options{}, err
	}
	o := Options{Version: img.AppVersion, Revision: revision}
	head, gitErr := git(ctx, "rev-parse", "HEAD")
	if o.Revision == "" {
		switch {
		case gitErr != nil:
			o.Revision = notGit
			logf("not a git checkout (%v): revision %q (pass -revision to name one)", gitErr, notGit)
		default:
			o.Revision = head
			if _, err := git(ctx, "diff", "--quiet", "HEAD", "--"); err != nil {
				o.Revision += "-dirty"
			}
		}
	}
	if sourceDateEpoch == "" {
		switch {
		case gitErr != nil:
			sourceDateEpoch = "0"
			logf("not a git checkout: the image's creation time is 1970-01-01T00:00:00Z (set SOURCE_DATE_EPOCH to choose one)")
		default:
			if sourceDateEpoch, err = git(ctx, "log", "-1", "--format=%ct", "HEAD"); err != nil {
				return Options{}, fmt.Errorf("%w (or set SOURCE_DATE_EPOCH)", err)
			}
		}
	}
	secs, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
	if err != nil || secs < 0 {
		return Options{}, fmt.Errorf("the creation time %q is not a count of seconds since 1970", sourceDateEpoch)
	}
	o.Created = time.Unix(secs, 0).UTC()
	return o, nil
}

// notGit is the revision of a build outside a git checkout.
const notGit = "unknown"

// git runs git with args and returns its trimmed output.
func git(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", args...).Output() //nolint:gosec // G204: git with this program's fixed arguments.
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
