package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// prepareRunDir leaves in dir (the run volume, see redirect.RunDirFlag) what the envoy
// container needs of osm-init: a copy of the binary self, which its preStop hook runs
// (`osm-init drain`), and the bootstrap link, pointing into bootstrapDir at the ConfigMap's
// dual-stack rendering, or at its IPv4 one when the kernel has no IPv6 (where a listener on
// [::] cannot bind; see bootstrap.Generated.IPv4YAML). Both are written under a temporary name and renamed into
// place, so a second run (the kubelet re-runs init containers when it recreates the pod's
// sandbox; the volume survives) replaces them whole. It returns the rendering chosen.
func prepareRunDir(dir, bootstrapDir, self string, kernelIPv6 bool) (string, error) {
	if err := copyExecutable(self, redirect.BinaryPath(dir)); err != nil {
		return "", fmt.Errorf("when copying osm-init into %s for the sidecar's drain: %w", dir, err)
	}
	key := bootstrap.BootstrapKey
	if !kernelIPv6 {
		key = bootstrap.BootstrapIPv4Key
	}
	link := redirect.BootstrapLink(dir)
	tmp := link + ".tmp"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) { //nolint:gosec // G703: the run volume the injector names, in the pod's own emptyDir.
		return "", err
	}
	if err := os.Symlink(filepath.Join(bootstrapDir, key), tmp); err != nil {
		return "", fmt.Errorf("when linking Envoy's bootstrap: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil { //nolint:gosec // G703: see above.
		return "", fmt.Errorf("when linking Envoy's bootstrap: %w", err)
	}
	return key, nil
}

// copyExecutable copies the file src to dst, readable and executable by every user (Envoy
// runs as uid 1500), through a temporary file renamed into place.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src) //nolint:gosec // G304: this program's own executable.
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o555) //nolint:gosec // G302,G304: an executable for another uid, in the pod's own volume.
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// The mode of an existing file is kept by O_CREATE; set it whatever was there.
	if err := os.Chmod(tmp, 0o555); err != nil { //nolint:gosec // G302: see above.
		return err
	}
	return os.Rename(tmp, dst) //nolint:gosec // G703: the run volume the injector names, in the pod's own emptyDir.
}
