package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
)

// injectorPackage is the package of the osm-injector command, and appPackage the one whose
// Version and GitCommit the build sets.
const (
	injectorPackage = "github.com/osm-tracing/osm-tracing/cmd/osm-injector"
	appPackage      = injectorPackage + "/app"
)

// Options says what to build.
type Options struct {
	// Repository is the image's name without its tag: ghcr.io/osm-tracing/osm-injector.
	Repository string
	// Version is osm-injector's version: the image's tag and version label and the binary's
	// app.Version. `make image` uses the chart's appVersion.
	Version string
	// Revision is the source's git commit: the revision label and the binary's app.GitCommit.
	Revision string
	// Created is the time of the image's config, history and created label, and the mtime of
	// every file in its layer and in the archive.
	Created time.Time
	// Platforms are the platforms to build, linux/<GOARCH> each.
	Platforms []v1.Platform
	// Go is the go command; "go" when empty.
	Go string
	// Logf, when set, is told what is being done.
	Logf func(format string, args ...any)
}

// Binary is an osm-injector executable built for one platform.
type Binary struct {
	Platform v1.Platform
	Path     string
}

// check refuses options that would give a wrong or unreproducible image.
func (o Options) check() error {
	if _, err := name.NewTag(o.Repository+":"+o.Version, name.StrictValidation); err != nil {
		return fmt.Errorf("repository %q with version %q is not an image name: %w", o.Repository, o.Version, err)
	}
	if o.Revision == "" || strings.ContainsAny(o.Revision, " \t\n'\"") {
		return fmt.Errorf("the revision %q is empty or has spaces or quotes", o.Revision)
	}
	if o.Created.IsZero() {
		return errors.New("no creation time: set SOURCE_DATE_EPOCH")
	}
	if len(o.Platforms) == 0 {
		return errors.New("no platform to build")
	}
	for _, p := range o.Platforms {
		if p.OS != "linux" || p.Architecture == "" || p.Variant != "" {
			return fmt.Errorf("platform %s: only linux/<GOARCH>, without a variant, is built", p.String())
		}
	}
	return nil
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// ParsePlatforms parses a comma-separated list of os/arch platforms.
func ParsePlatforms(list string) ([]v1.Platform, error) {
	var out []v1.Platform
	for s := range strings.SplitSeq(list, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// Compile builds osm-injector for each of o.Platforms into dir/<os>-<arch>/osm-injector: a
// static binary, stripped, with no file system path or VCS stamp in it, and with the
// version and commit of o.
func Compile(ctx context.Context, o Options, dir string) ([]Binary, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ldflags := fmt.Sprintf("-s -w -X %s.Version=%s -X %s.GitCommit=%s", appPackage, o.Version, appPackage, o.Revision)
	bins := make([]Binary, 0, len(o.Platforms))
	for _, p := range o.Platforms {
		out := filepath.Join(dir, p.OS+"-"+p.Architecture, "osm-injector")
		start := time.Now()
		if err := ociarchive.GoBuild(ctx, o.Go, p, injectorPackage, out, ldflags); err != nil {
			return nil, err
		}
		o.logf("compiled osm-injector for %s in %s", p.String(), time.Since(start).Round(100*time.Millisecond))
		bins = append(bins, Binary{Platform: p, Path: out})
	}
	return bins, nil
}

// Build compiles osm-injector and writes the image archive to archive; it returns the
// digest of the image index.
func Build(ctx context.Context, o Options, archive string) (v1.Hash, error) {
	dir, err := os.MkdirTemp("", "osm-injector-image-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(dir)
	bins, err := Compile(ctx, o, dir)
	if err != nil {
		return v1.Hash{}, err
	}
	return WriteArchive(o, bins, archive)
}
