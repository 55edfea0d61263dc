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
	"github.com/osm-tracing/osm-tracing/manifests"
)

// Program is a command of this module and how its image is made.
type Program struct {
	// Name is the command's name: the binary's, at /NAME in the image (the entrypoint), and
	// the image's title.
	Name string
	// Package is the command's Go package.
	Package string
	// Repository is the image's name without its tag: ghcr.io/osm-tracing/NAME.
	Repository string
	// Description is the image's description label.
	Description string
	// VersionPackage, when set, is the package whose Version and GitCommit the build sets
	// with -ldflags -X.
	VersionPackage string
	// Tmp adds an empty /tmp (1777) to the image, for a program that writes temporary files
	// when run without the chart's emptyDir.
	Tmp bool
	// Archive is the archive's file name for a version.
	Archive func(version string) string
}

// Entrypoint is where the binary is in the image, and what the image runs.
func (p Program) Entrypoint() string { return "/" + p.Name }

// Programs are the images `make image` builds, in their order: osm-injector, whose name and
// version the chart's default image gives, and osm-init, the init container it injects.
func Programs() ([]Program, error) {
	injector, err := manifests.DefaultInjectorImage()
	if err != nil {
		return nil, err
	}
	return []Program{
		{
			Name: "osm-injector", Package: "github.com/osm-tracing/osm-tracing/cmd/osm-injector",
			Repository:     injector.Repository,
			Description:    "osm-tracing's sidecar injector: admission webhook and controllers",
			VersionPackage: "github.com/osm-tracing/osm-tracing/cmd/osm-injector/app",
			Tmp:            true, Archive: manifests.ImageArchiveName,
		},
		{
			Name: "osm-init", Package: "github.com/osm-tracing/osm-tracing/cmd/osm-init",
			Repository:  manifests.InitImageRepository,
			Description: "osm-tracing's init container: installs a pod's traffic redirect to Envoy (nftables, over netlink)",
			Archive:     manifests.InitImageArchiveName,
		},
	}, nil
}

// Options says what to build.
type Options struct {
	// Program is the command whose image is built.
	Program Program
	// Version is the program's version: the image's tag and version label (and the binary's
	// app.Version). `make image` uses the chart's appVersion.
	Version string
	// Revision is the source's git commit: the revision label (and the binary's app.GitCommit).
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

// Binary is a program's executable built for one platform.
type Binary struct {
	Platform v1.Platform
	Path     string
}

// check refuses options that would give a wrong or unreproducible image.
func (o Options) check() error {
	if o.Program.Name == "" || o.Program.Package == "" || o.Program.Archive == nil {
		return fmt.Errorf("no program to build, or one without a package or an archive name: %+v", o.Program)
	}
	if _, err := name.NewTag(o.Ref(), name.StrictValidation); err != nil {
		return fmt.Errorf("repository %q with version %q is not an image name: %w", o.Program.Repository, o.Version, err)
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

// Compile builds o.Program for each of o.Platforms into dir/<os>-<arch>/NAME: a static
// binary, stripped, with no file system path or VCS stamp in it, and with the version and
// commit of o when the program has a VersionPackage.
func Compile(ctx context.Context, o Options, dir string) ([]Binary, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ldflags := "-s -w"
	if vp := o.Program.VersionPackage; vp != "" {
		ldflags += fmt.Sprintf(" -X %s.Version=%s -X %s.GitCommit=%s", vp, o.Version, vp, o.Revision)
	}
	bins := make([]Binary, 0, len(o.Platforms))
	for _, p := range o.Platforms {
		out := filepath.Join(dir, p.OS+"-"+p.Architecture, o.Program.Name)
		start := time.Now()
		if err := ociarchive.GoBuild(ctx, o.Go, p, o.Program.Package, out, ldflags); err != nil {
			return nil, err
		}
		o.logf("compiled %s for %s in %s", o.Program.Name, p.String(), time.Since(start).Round(100*time.Millisecond))
		bins = append(bins, Binary{Platform: p, Path: out})
	}
	return bins, nil
}

// Build compiles o.Program and writes its image archive to archive; it returns the digest
// of the image index.
func Build(ctx context.Context, o Options, archive string) (v1.Hash, error) {
	dir, err := os.MkdirTemp("", o.Program.Name+"-image-")
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
