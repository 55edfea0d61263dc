package testimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
)

// Options says what Build writes where.
type Options struct {
	// OutDir receives the archives, their stamps and, under bin/, the compiled programs.
	OutDir string
	// Jaeger is the Jaeger binary hack/testbin.sh builds
	// (.cache/testbin/jaeger-v1.76.0/jaeger); needed for JaegerImage only.
	Jaeger string
	// Images are the references to build; empty means all of them.
	Images []string
	// Go is the go command; "go" when empty.
	Go string
	// Logf, when set, is told what is being done.
	Logf func(format string, args ...any)

	// anyJaegerBinary lets tests put any static binary in the Jaeger image.
	anyJaegerBinary bool
}

// Archive is one image archive Build wrote or found up to date.
type Archive struct {
	// Ref is the image's reference as pod specs and the chart write it.
	Ref string
	// Name is the name the archive's index.json gives it, which containerd stores on import:
	// Ref normalized as the kubelet's image lookups normalize it (ContainerdName), so that
	// imagePullPolicy Never or IfNotPresent finds it.
	Name string
	// Path is the OCI archive, for `ctr -n k8s.io images import PATH`.
	Path string
	// Cached says that the archive was already up to date and was not rewritten.
	Cached bool
}

// created is every timestamp of the images (config, history, layer and archive entries): a
// constant, so that the same inputs give the same bytes and the stamps can tell.
var created = time.Unix(0, 0).UTC()

// builderVersion is part of every stamp: bump it when the way images are made changes in a
// way their inputs do not show, to rebuild every archive.
const builderVersion = "testimages/1"

// Refs are the references of every image Build makes, in its order.
func Refs() []string {
	var refs []string
	for _, img := range images() {
		refs = append(refs, img.ref)
	}
	return refs
}

// Build writes one OCI archive per image into o.OutDir and returns them in the order of
// Refs. The Go programs are compiled first (static, -trimpath; the go command's cache makes
// that quick when nothing changed); an archive whose inputs (its files' bytes, names and
// modes, its configuration, its name) are those recorded in its stamp, NAME.oci.tar.inputs,
// is left as it is.
func Build(ctx context.Context, o Options) ([]Archive, error) {
	if o.OutDir == "" {
		return nil, errors.New("testimages: no output folder (Options.OutDir)")
	}
	selected, err := o.selected()
	if err != nil {
		return nil, err
	}
	binDir := filepath.Join(o.OutDir, "bin", platform().OS+"-"+platform().Architecture)
	if err := os.MkdirAll(binDir, 0o750); err != nil {
		return nil, err
	}
	// go test runs packages in parallel: two of them may build into the same folder.
	unlock, err := lockDir(ctx, o.OutDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Archive
	for _, img := range selected {
		start := time.Now()
		var bin string
		if img.program != "" {
			if bin, err = compile(ctx, o, img.program, binDir); err != nil {
				return nil, fmt.Errorf("testimages: %s: %w", img.ref, err)
			}
		}
		entries, err := img.entries(o, bin)
		if err != nil {
			return nil, fmt.Errorf("testimages: %s: %w", img.ref, err)
		}
		a, err := writeImage(img, entries, filepath.Join(o.OutDir, img.file))
		if err != nil {
			return nil, fmt.Errorf("testimages: %s: %w", img.ref, err)
		}
		what := "wrote"
		if a.Cached {
			what = "kept (inputs unchanged)"
		}
		o.logf("%s %s for %s in %s", what, a.Path, a.Ref, time.Since(start).Round(10*time.Millisecond))
		out = append(out, a)
	}
	return out, nil
}

// ContainerdName is ref as the CRI plugin of containerd looks images up (reference.
// ParseDockerRef): a name without a registry is Docker Hub's, docker.io/, and a Docker Hub
// name without an organization is in library/. An image imported under the short name would
// be invisible to the kubelet, which would then try to pull it. Names with a registry (a
// first component with a dot or a colon, or localhost) are left as they are.
func ContainerdName(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	switch {
	case !found:
		return "docker.io/library/" + ref
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return ref
	default:
		return "docker.io/" + ref
	}
}

// lockDir takes an exclusive lock on dir (flock of dir/.lock), waiting for another Build
// that holds it, until ctx ends.
func lockDir(ctx context.Context, dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return err == nil, err
	})
	switch {
	case err == nil:
		return func() { _ = f.Close() }, nil // closing the file releases the lock
	case ctx.Err() != nil:
		_ = f.Close()
		return nil, fmt.Errorf("testimages: waiting for another build in %s: %w", dir, err)
	}
	_ = f.Close()
	return nil, fmt.Errorf("testimages: locking %s: %w", dir, err)
}

func (o Options) selected() ([]image, error) {
	all := images()
	if len(o.Images) == 0 {
		return all, nil
	}
	var out []image
	for _, ref := range o.Images {
		i := slices.IndexFunc(all, func(img image) bool { return img.ref == ref })
		if i < 0 {
			return nil, fmt.Errorf("testimages: no image %q; there are %s", ref, strings.Join(Refs(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// stamp is what NAME.oci.tar.inputs records: the digest of the inputs the archive was made
// from, and the digest of the archive itself (so that an archive changed or truncated since
// is rewritten).
type stamp struct {
	Inputs  string `json:"inputs"`
	Archive string `json:"archive"`
}

// writeImage writes the image of entries to archive, unless the stamp says the archive
// there already holds exactly that.
func writeImage(img image, entries []ociarchive.Entry, archive string) (Archive, error) {
	a := Archive{Ref: img.ref, Name: ContainerdName(img.ref), Path: archive}
	p := platform()
	config := &v1.ConfigFile{Architecture: p.Architecture, OS: p.OS, Created: v1.Time{Time: created},
		Config: img.config, RootFS: v1.RootFS{Type: "layers"}}
	inputs, err := inputsDigest(a.Name, config, entries)
	if err != nil {
		return Archive{}, err
	}
	stampPath := archive + ".inputs"
	if old, err := readStamp(stampPath); err == nil && old.Inputs == inputs {
		if sum, err := fileDigest(archive); err == nil && sum == old.Archive {
			a.Cached = true
			return a, nil
		}
	}
	layer, err := ociarchive.Layer(entries, created)
	if err != nil {
		return Archive{}, err
	}
	im, err := ociarchive.Image(config, layer, v1.History{Created: v1.Time{Time: created}, CreatedBy: "e2e/testimages: " + img.ref})
	if err != nil {
		return Archive{}, err
	}
	idx := ociarchive.Index([]ociarchive.PlatformImage{{Platform: p, Image: im}})
	_, tag, _ := strings.Cut(img.ref[strings.LastIndex(img.ref, "/")+1:], ":")
	if err := ociarchive.WriteIndex(idx, a.Name, tag, archive, created); err != nil {
		return Archive{}, err
	}
	sum, err := fileDigest(archive)
	if err != nil {
		return Archive{}, err
	}
	data, err := json.Marshal(stamp{Inputs: inputs, Archive: sum})
	if err != nil {
		return Archive{}, err
	}
	return a, os.WriteFile(stampPath, append(data, '\n'), 0o600)
}

// inputsDigest is the sha256 of everything an archive is made from.
func inputsDigest(ref string, config *v1.ConfigFile, entries []ociarchive.Entry) (string, error) {
	h := sha256.New()
	cfg, err := json.Marshal(config)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%s\n%s\n%d:%s\n", builderVersion, ref, len(cfg), cfg)
	for _, e := range entries {
		fmt.Fprintf(h, "%c %q %o %q %d\n", e.Type, e.Name, e.Mode, e.Link, len(e.Data))
		h.Write(e.Data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func readStamp(path string) (stamp, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return stamp{}, err
	}
	var s stamp
	err = json.Unmarshal(data, &s)
	return s, err
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
