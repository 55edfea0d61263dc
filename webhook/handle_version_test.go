package webhook

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// TestHandlerChecksTheServerVersion runs the real inject.Mutate behind the handler: on a
// cluster too old for the native sidecar a pod that would be injected is denied, whatever the
// failure policy (admitted with the sidecar it would hang in Init; silently admitted without
// it, nobody would know why tracing is missing); a pod that is not injected anyway is allowed.
func TestHandlerChecksTheServerVersion(t *testing.T) {
	cases := map[string]struct {
		version     string
		policy      admissionregistrationv1.FailurePolicyType
		unlabelled  bool
		annotations map[string]string
		result      string
		// message: what the answer's message must contain, each.
		message []string
	}{
		"a 1.28 cluster denies the pod under failurePolicy Ignore": {
			version: "v1.28.3", policy: admissionregistrationv1.Ignore,
			result: ResultDenied, message: []string{"v1.28.3", "1.29 or later", bootstrap.InjectionAnnotation},
		},
		"a 1.28 cluster denies the pod under failurePolicy Fail": {
			version: "v1.28.3", policy: admissionregistrationv1.Fail,
			result: ResultDenied, message: []string{"v1.28.3", "1.29 or later"},
		},
		"a 1.29 cluster injects": {
			version: "v1.29.0", result: ResultInjected,
		},
		"a vendor's 1.37 build injects": {
			version: "v1.37.2-eks-1", result: ResultInjected,
		},
		"an unknown version is not checked": {
			version: "", result: ResultInjected,
		},
		"a pod of a namespace without the label is allowed on a 1.28 cluster": {
			version: "v1.28.3", unlabelled: true, result: ResultSkipped,
		},
		"a pod that opts out is allowed on a 1.28 cluster": {
			version: "v1.28.3", annotations: map[string]string{bootstrap.InjectionAnnotation: "disabled"},
			result: ResultSkipped, message: []string{"opts out"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}}
			if !tc.unlabelled {
				ns.Labels = map[string]string{bootstrap.InjectionLabel: inject.InjectionEnabled}
			}
			c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(ns).Build()
			h, err := NewHandler(HandlerOptions{
				Cache: c, Writer: c, ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config",
				FailurePolicy: tc.policy, ServerVersion: tc.version, Log: logr.Discard(),
			})
			if err != nil {
				t.Fatal(err)
			}
			resp, result := h.handle(context.Background(), logr.Discard(), podRequest(t, tc.annotations, true))
			if result != tc.result {
				t.Errorf("result %q, want %q (%+v)", result, tc.result, resp.Result)
			}
			switch tc.result {
			case ResultDenied:
				if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusForbidden {
					t.Errorf("want a denial (403), got allowed=%t %+v", resp.Allowed, resp.Result)
				}
				if len(resp.Warnings) > 0 {
					t.Errorf("a denial carries warnings: %v", resp.Warnings)
				}
			case ResultInjected:
				if !resp.Allowed || len(resp.Patches) == 0 {
					t.Errorf("want the pod injected, got allowed=%t, %d patches (%+v)", resp.Allowed, len(resp.Patches), resp.Result)
				}
			case ResultSkipped:
				if !resp.Allowed || len(resp.Patches) > 0 {
					t.Errorf("want the pod allowed unchanged, got allowed=%t, %d patches (%+v)", resp.Allowed, len(resp.Patches), resp.Result)
				}
			}
			for _, want := range tc.message {
				if resp.Result == nil || !strings.Contains(resp.Result.Message, want) {
					t.Errorf("the message does not contain %q: %+v", want, resp.Result)
				}
			}
		})
	}
}

func TestNewHandlerRefusesAServerVersionThatDoesNotParse(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	_, err := NewHandler(HandlerOptions{
		Cache: c, Writer: c, ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config",
		ServerVersion: "not-a-version", Log: logr.Discard(),
	})
	if err == nil || !strings.Contains(err.Error(), "not-a-version") {
		t.Fatalf("want an error naming the version, got %v", err)
	}
}
