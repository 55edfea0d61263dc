// Package ociarchive builds container images without Docker or a base image, and writes them
// as OCI archives: an OCI image layout in a tar, whose index.json names the image so that
// `ctr -n k8s.io images import FILE` (and kind, skopeo, crane) can load it without a
// registry. hack/image (the osm-injector image) and e2e/testimages (the images the real-node
// end-to-end tests run) share it, so that every image of the project is built the same way.
// It is not under an internal/ folder of hack/ because e2e/testimages, outside hack/, imports
// it.
//
// Everything it writes is reproducible: layer and archive entries come in a fixed order,
// owned by 0:0 without user or group names, and stamped with one given time; static Go
// binaries are built with -trimpath, without VCS stamping and with the environment's GOFLAGS
// ignored (GoBuild). The same inputs give the same bytes, which is what lets e2e/testimages
// skip an image whose inputs did not change.
package ociarchive
