// Command image builds the osm-injector container image without Docker or any base image, as
// an OCI image archive (`make image` writes bin/osm-injector-<appVersion>.oci.tar):
//
//   - osm-injector is compiled once per platform (linux/amd64 and linux/arm64 by default) as a
//     static binary: CGO_ENABLED=0 go build -trimpath -buildvcs=false, with the version and
//     commit set by -ldflags -X;
//   - each image is built with go-containerregistry from scratch (empty.Image): one layer
//     holding /osm-injector and an empty /tmp, entrypoint [/osm-injector], user 65532:65532,
//     the org.opencontainers.image.* labels; no shell, no package manager, nothing pulled;
//   - an OCI image index lists the platforms, and the archive is an OCI image layout in a tar
//     whose index.json names it ghcr.io/osm-tracing/osm-injector:<appVersion>.
//
// The version is the chart's appVersion (manifests/charts/osm/Chart.yaml), so the archive's
// name, the image's version label and tag and the chart's default image agree.
//
// The build is reproducible: the same commit and Go toolchain give the same digests. Every
// timestamp (the config's created, the history, the created label and the mtime of every file
// in the layer and in the archive) is SOURCE_DATE_EPOCH when set, else the commit's time; tar
// entries are sorted and owned by 0:0; the binary is built with -trimpath and without VCS
// stamping; GOFLAGS from the environment is ignored and GOAMD64/GOARM64 are pinned.
package main
