package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/osm-tracing/osm-tracing/cmd/osm/internal/kube"
	"github.com/osm-tracing/osm-tracing/manifests"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// clusterAt is a fake cluster whose API server reports gitVersion.
func clusterAt(gitVersion string) *fake.Clientset {
	cs := fake.NewClientset()
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: gitVersion}
	return cs
}

func TestCheckServerVersion(t *testing.T) {
	tests := map[string]struct {
		gitVersion string
		// want is empty for a supported cluster, else what the error must contain, each.
		want []string
	}{
		"the minimum":             {gitVersion: "v1.31.0"},
		"a recent release":        {gitVersion: "v1.37.2"},
		"a vendor's build":        {gitVersion: "v1.31.4-eks-7f9249a"},
		"a GKE build":             {gitVersion: "v1.33.5-gke.1080000"},
		"a release candidate":     {gitVersion: "v1.31.0-rc.1"},
		"a later major release":   {gitVersion: "v2.0.0"},
		"one minor release short": {gitVersion: "v1.30.14", want: []string{"Kubernetes v1.30.14", "1.31 or later", "isIP()", "native sidecar"}},
		"too old for native sidecars": {
			gitVersion: "v1.28.3-eks-1", want: []string{"Kubernetes v1.28.3-eks-1", "1.31 or later"},
		},
		"a version that does not parse": {gitVersion: "master", want: []string{`"master"`, "does not parse", "1.31 or later"}},
		"no version":                    {gitVersion: "", want: []string{`""`, "does not parse"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckServerVersion(clusterAt(tc.gitVersion).Discovery())
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused %s: %v", tc.gitVersion, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %s", tc.gitVersion)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not contain %q: %v", w, err)
				}
			}
		})
	}

	t.Run("a discovery error is reported", func(t *testing.T) {
		cs := fake.NewClientset()
		cs.Discovery().(*fakediscovery.FakeDiscovery).PrependReactor("get", "version",
			func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, nil, errors.New("connection refused")
			})
		err := CheckServerVersion(cs.Discovery())
		if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "Kubernetes version") {
			t.Fatalf("want the discovery error, got %v", err)
		}
	})
}

// TestInstallRefusesAnOldClusterFirst: osm install checks the version before it looks for
// meshes or installs anything.
func TestInstallRefusesAnOldClusterFirst(t *testing.T) {
	ch, err := manifests.LoadChart()
	if err != nil {
		t.Fatal(err)
	}
	cs := clusterAt("v1.30.2")
	err = Install(context.Background(), &kube.Clients{Kube: cs}, InstallOptions{
		Chart: ch, Namespace: DefaultNamespace, MeshName: DefaultMeshName, Out: io.Discard,
	})
	if err == nil || !strings.Contains(err.Error(), "v1.30.2") {
		t.Fatalf("want a refusal naming v1.30.2, got %v", err)
	}
	for _, a := range cs.Actions() {
		if a.GetResource().Resource != "version" {
			t.Errorf("install went on to %s %s after refusing the cluster", a.GetVerb(), a.GetResource().Resource)
		}
	}
}

// TestMinimumKubernetesVersionIsTheChartsAndCoversTheSidecar keeps the one minimum in step
// with the chart's kubeVersion (which helm install checks) and with the injector's own.
func TestMinimumKubernetesVersionIsTheChartsAndCoversTheSidecar(t *testing.T) {
	ch, err := manifests.LoadChart()
	if err != nil {
		t.Fatal(err)
	}
	constraint := ch.Metadata.KubeVersion
	if constraint == "" {
		t.Fatal("the chart declares no kubeVersion")
	}
	for v, want := range map[string]bool{
		fmt.Sprintf("v1.%d.0", MinKubernetesMinor):        true,
		fmt.Sprintf("v1.%d.0-eks-1", MinKubernetesMinor):  true,
		fmt.Sprintf("v1.%d.99", MinKubernetesMinor-1):     false,
		fmt.Sprintf("v1.%d.3", inject.MinKubernetesMinor): MinKubernetesMinor <= inject.MinKubernetesMinor,
	} {
		if got := chartutil.IsCompatibleRange(constraint, v); got != want {
			t.Errorf("the chart's kubeVersion %q accepts %s: %t, but MinKubernetesMinor is %d", constraint, v, got, MinKubernetesMinor)
		}
	}
	if MinKubernetesMinor < inject.MinKubernetesMinor {
		t.Errorf("osm install accepts Kubernetes 1.%d, older than the native sidecar's 1.%d", MinKubernetesMinor, inject.MinKubernetesMinor)
	}
}
