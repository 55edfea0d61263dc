package app

import (
	"errors"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
)

func TestServerVersion(t *testing.T) {
	cases := map[string]struct {
		gitVersion string
		err        error
		want       string
	}{
		"a supported cluster":                  {gitVersion: "v1.31.2", want: "v1.31.2"},
		"a vendor's build":                     {gitVersion: "v1.37.2-eks-1", want: "v1.37.2-eks-1"},
		"a cluster too old is passed on":       {gitVersion: "v1.28.3", want: "v1.28.3"},
		"a version that does not parse is off": {gitVersion: "master", want: ""},
		"no version is off":                    {gitVersion: "", want: ""},
		"a discovery error leaves it unchecked": {
			err: errors.New("connection refused"), want: "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}, FakedServerVersion: &version.Info{GitVersion: tc.gitVersion}}
			if tc.err != nil {
				d.PrependReactor("get", "version", func(clienttesting.Action) (bool, runtime.Object, error) {
					return true, nil, tc.err
				})
			}
			if got := serverVersion(d, logr.Discard()); got != tc.want {
				t.Errorf("serverVersion = %q, want %q", got, tc.want)
			}
		})
	}
}
