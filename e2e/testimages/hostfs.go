package testimages

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
)

// hostTree collects files of this machine into a layer, as they are on the machine: a path
// is resolved one component at a time, and every symbolic link met on the way is kept as a
// link (with its target as the machine has it), so that /lib64/ld-linux-x86-64.so.2 still
// resolves inside the image on a merged-/usr Debian (lib64 -> usr/lib64 -> ...). ELF files
// bring their program interpreter and their DT_NEEDED libraries, found as the dynamic loader
// finds them without an ld.so.cache: in the default library folders.
type hostTree struct {
	// root is the machine's root ("/"); tests may point it elsewhere.
	root    string
	entries map[string]ociarchive.Entry
	// packages names the Debian package of the top-level files, for the error when one is
	// missing.
	packages map[string]string
}

// libraryDirs are the folders the x86-64 glibc loader searches by default, in its order.
var libraryDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// maxLinks bounds the symbolic links followed for one path, as the kernel does (40).
const maxLinks = 40

func newHostTree(root string) *hostTree {
	return &hostTree{root: root, entries: map[string]ociarchive.Entry{}, packages: map[string]string{}}
}

// host is a machine path under the tree's root.
func (t *hostTree) host(p string) string { return filepath.Join(t.root, filepath.FromSlash(p)) }

// add copies the machine's file p (absolute), with the links leading to it and, for an ELF
// file, its interpreter and libraries. It returns the path the file really has.
func (t *hostTree) add(p string) (string, error) {
	resolved, data, mode, err := t.resolve(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if pkg := t.packages[p]; pkg != "" {
				return "", fmt.Errorf("%s is missing on this machine: install the Debian package %s (apt-get install -y %s)", p, pkg, pkg)
			}
		}
		return "", err
	}
	name := strings.TrimPrefix(resolved, "/")
	if _, done := t.entries[name]; done {
		return resolved, nil
	}
	t.entries[name] = ociarchive.File(name, mode, data)
	return resolved, t.addELFDeps(resolved, data)
}

// resolve walks p from the root, recording folders and links, and returns the regular file
// it ends at with its content and permission bits.
func (t *hostTree) resolve(p string) (resolved string, data []byte, mode int64, err error) {
	rest := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	cur := "/"
	for links := 0; len(rest) > 0; {
		next := path.Join(cur, rest[0])
		rest = rest[1:]
		info, err := os.Lstat(t.host(next))
		if err != nil {
			return "", nil, 0, err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if links++; links > maxLinks {
				return "", nil, 0, fmt.Errorf("%s: too many symbolic links", p)
			}
			target, err := os.Readlink(t.host(next))
			if err != nil {
				return "", nil, 0, err
			}
			t.entries[strings.TrimPrefix(next, "/")] = ociarchive.Symlink(strings.TrimPrefix(next, "/"), target)
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			rest = append(strings.Split(strings.Trim(path.Clean(target), "/"), "/"), rest...)
			cur = "/"
		case info.IsDir():
			if len(rest) == 0 {
				return "", nil, 0, fmt.Errorf("%s is a folder", p)
			}
			t.entries[strings.TrimPrefix(next, "/")+"/"] = ociarchive.Dir(strings.TrimPrefix(next, "/")+"/", 0o755)
			cur = next
		case info.Mode().IsRegular():
			if len(rest) > 0 {
				return "", nil, 0, fmt.Errorf("%s: %s is not a folder", p, next)
			}
			data, err := os.ReadFile(t.host(next))
			if err != nil {
				return "", nil, 0, err
			}
			return next, data, int64(info.Mode().Perm()), nil
		default:
			return "", nil, 0, fmt.Errorf("%s: %s is neither a file, a folder nor a link", p, next)
		}
	}
	return "", nil, 0, fmt.Errorf("%s is the root folder", p)
}

// addELFDeps adds the interpreter and the libraries an ELF file needs, recursively; other
// files (scripts, data) need nothing.
func (t *hostTree) addELFDeps(resolved string, data []byte) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil // not an ELF file
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		interp := make([]byte, prog.Filesz)
		if _, err := prog.ReadAt(interp, 0); err != nil {
			return fmt.Errorf("%s: its interpreter: %w", resolved, err)
		}
		if _, err := t.add(strings.TrimRight(string(interp), "\x00")); err != nil {
			return fmt.Errorf("%s needs its interpreter: %w", resolved, err)
		}
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("%s: its libraries: %w", resolved, err)
	}
	for _, lib := range needed {
		if err := t.addLibrary(lib, resolved); err != nil {
			return err
		}
	}
	return nil
}

// addLibrary adds the first lib found in the default library folders.
func (t *hostTree) addLibrary(lib, neededBy string) error {
	for _, dir := range libraryDirs {
		p := path.Join(dir, lib)
		if _, err := os.Stat(t.host(p)); err == nil {
			_, err := t.add(p)
			return err
		}
	}
	return fmt.Errorf("library %s, needed by %s, is in none of %s on this machine: reinstall the Debian package that ships %s (dpkg -S %s)",
		lib, neededBy, strings.Join(libraryDirs, ", "), neededBy, neededBy)
}

// link adds a symbolic link name -> target (a name in the image, without the leading slash).
// A link that the machine's tree already brought must agree.
func (t *hostTree) link(name, target string) error {
	if e, ok := t.entries[name]; ok && (e.Type != tar.TypeSymlink || e.Link != target) {
		return fmt.Errorf("%s is already in the image, not as a link to %s", name, target)
	}
	t.entries[name] = ociarchive.Symlink(name, target)
	return nil
}

// addLink copies the machine's top-level p (/sbin) when it is a symbolic link; a folder is
// left out (its files come with the paths added through it).
func (t *hostTree) addLink(p string) error {
	info, err := os.Lstat(t.host(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink == 0 {
		return nil // a real folder
	}
	target, err := os.Readlink(t.host(p))
	if err != nil {
		return err
	}
	return t.link(strings.TrimPrefix(p, "/"), target)
}

// dir adds a folder (name ends with a slash).
func (t *hostTree) dir(name string, mode int64) {
	if _, ok := t.entries[name]; !ok {
		t.entries[name] = ociarchive.Dir(name, mode)
	}
}

// sorted returns the entries in lexical order: a folder comes before what it holds, and the
// layer is the same on every build.
func (t *hostTree) sorted() []ociarchive.Entry {
	names := make([]string, 0, len(t.entries))
	for name := range t.entries {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]ociarchive.Entry, 0, len(names))
	for _, name := range names {
		out = append(out, t.entries[name])
	}
	return out
}
