package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Versions of the cached binaries. Keep them in step with hack/testbin.sh, which builds them
// into folders named after these versions.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.6.16"
	KwokVersion       = "v0.8.0"
	JaegerVersion     = "v1.76.0"
)

const (
	// EnvTestBin names the folder holding the cached binaries (default: .cache/testbin at the
	// repository root).
	EnvTestBin = "OSM_TESTBIN"
	// EnvSkip, when set to 1 or true, skips tests whose binaries are missing instead of failing.
	EnvSkip = "OSM_E2E_SKIP"
	// EnvKeep, when set to 1 or true, keeps the temporary folders (logs, certificates, data).
	EnvKeep = "OSM_E2E_KEEP"
)

// Binaries are the paths of the cached executables and data files.
type Binaries struct {
	// Dir is the testbin folder all others are in.
	Dir                   string
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Kubectl               string
	Etcd                  string
	Kwok                  string
	// KwokStages are the kwok Stage files that make nodes and pods Ready.
	KwokStages []string
	// KwokPortForwardCRD is the CustomResourceDefinition of kwok's PortForward objects.
	KwokPortForwardCRD string
	Jaeger             string
	// Kubelet and KubeProxy run a real node (Options.Node).
	Kubelet   string
	KubeProxy string
}

// FindBinaries locates the cached binaries without checking that they exist.
func FindBinaries() (Binaries, error) {
	dir := os.Getenv(EnvTestBin)
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return Binaries{}, err
		}
		dir = filepath.Join(root, ".cache", "testbin")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, fmt.Errorf("when resolving %s: %w", EnvTestBin, err)
	}
	k8s := filepath.Join(dir, "k8s-"+KubernetesVersion)
	kwok := filepath.Join(dir, "kwok-"+KwokVersion)
	stages, err := filepath.Glob(filepath.Join(kwok, "assets", "stages", "*.yaml"))
	if err != nil {
		return Binaries{}, fmt.Errorf("when listing kwok stages: %w", err)
	}
	return Binaries{
		Dir:                   dir,
		KubeAPIServer:         filepath.Join(k8s, "kube-apiserver"),
		KubeControllerManager: filepath.Join(k8s, "kube-controller-manager"),
		KubeScheduler:         filepath.Join(k8s, "kube-scheduler"),
		Kubectl:               filepath.Join(k8s, "kubectl"),
		Kubelet:               filepath.Join(k8s, "kubelet"),
		KubeProxy:             filepath.Join(k8s, "kube-proxy"),
		Etcd:                  filepath.Join(dir, "etcd-"+EtcdVersion, "etcd"),
		Kwok:                  filepath.Join(kwok, "kwok"),
		KwokStages:            stages,
		KwokPortForwardCRD:    filepath.Join(kwok, "assets", "crds", "portforwards.yaml"),
		Jaeger:                filepath.Join(dir, "jaeger-"+JaegerVersion, "jaeger"),
	}, nil
}

// RepoRoot walks up from the working directory to the folder holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("when finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("when finding the repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// requireFiles checks that the files a component needs exist. A missing one fails the test
// with the command that builds it, or skips the test when OSM_E2E_SKIP is set.
func requireFiles(t testing.TB, component string, files ...string) {
	t.Helper()
	for _, p := range files {
		if info, err := os.Stat(p); err != nil || info.IsDir() {
			msg := fmt.Sprintf("framework: %s is missing: run `make testbin` (or hack/testbin.sh %s), "+
				"or set %s=1 to skip e2e tests", p, component, EnvSkip)
			if envTrue(EnvSkip) {
				t.Skip(msg)
			}
			t.Fatal(msg)
		}
	}
}

// findBinaries is FindBinaries for tests: an error fails the test.
func findBinaries(t testing.TB) Binaries {
	t.Helper()
	bins, err := FindBinaries()
	if err != nil {
		t.Fatalf("framework: %v", err)
	}
	return bins
}

func envTrue(name string) bool {
	switch os.Getenv(name) {
	case "1", "true", "TRUE", "True", "yes":
		return true
	}
	return false
}
