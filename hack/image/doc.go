// Command image builds the project's container images without Docker or any base image, as
// OCI image archives; `make image` writes both into bin/:
//
//   - bin/osm-injector-<appVersion>.oci.tar, ghcr.io/osm-tracing/osm-injector:<appVersion>: the
//     webhook and its controllers (cmd/osm-injector), /osm-injector and an empty /tmp;
//   - bin/osm-init-<appVersion>.oci.tar, ghcr.io/osm-tracing/osm-init:<appVersion>: the
//     injected init container that installs a pod's traffic redirect (cmd/osm-init), /osm-init
//     alone.
//
// For each (-images picks some: -images osm-init):
//
//   - the command is compiled once per platform (linux/amd64 and linux/arm64 by default) as a
//     static binary: CGO_ENABLED=0 go build -trimpath -buildvcs=false (osm-injector with its
//     version and commit set by -ldflags -X);
//   - each image is built with go-containerregistry from scratch (empty.Image): one layer
//     holding the binary, entrypoint [/NAME], user 65532:65532, the org.opencontainers.image.*
//     labels; no shell, no package manager, nothing pulled;
//   - an OCI image index lists the platforms, and the archive is an OCI image layout in a tar
//     whose index.json names it REPOSITORY:<appVersion>.
//
// The version is the chart's appVersion (manifests/charts/osm/Chart.yaml), so the archives'
// names, the images' version labels and tags and the chart's default images agree
// (manifests.DefaultInjectorImage, manifests.DefaultInitImage).
//
// The build is reproducible: the same commit and Go toolchain give the same digests. Every
// timestamp (the config's created, the history, the created label and the mtime of every file
// in the layer and in the archive) is SOURCE_DATE_EPOCH when set, else the commit's time; tar
// entries are sorted and owned by 0:0; the binaries are built with -trimpath and without VCS
// stamping; GOFLAGS from the environment is ignored and GOAMD64/GOARM64 are pinned.
package main
