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

// TestGenerateFailureIsDenied: settings the generator refuses (an empty literal tag, which
// Envoy's validation refuses, as a MeshConfig could carry before the CRD said minLength 1)
// deny the pod under either failure policy, never admit it without the sidecar.
func TestGenerateFailureIsDenied(t *testing.T) {
	// The real core, whose generator is handed an empty literal tag whatever the pod's
	// settings (Resolve refuses one now, so no annotation or MeshConfig can bring it).
	mutate := func(pod *corev1.Pod, ns inject.Namespace, env inject.Env) (inject.Result, error) {
		generate := env.Generate
		env.Generate = func(s bootstrap.Settings) (bootstrap.Generated, error) {
			s.Tracing.Enable = true
			s.Tracing.Tags = "team=literal:"
			return generate(s)
		}
		return inject.Mutate(pod, ns, env)
	}
	for _, policy := range []admissionregistrationv1.FailurePolicyType{admissionregistrationv1.Ignore, admissionregistrationv1.Fail} {
		t.Run(string(policy), func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}}
			c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(ns).Build()
			h, err := NewHandler(HandlerOptions{
				Cache: c, Writer: c, ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config",
				FailurePolicy: policy, Log: logr.Discard(), Mutate: mutate,
			})
			if err != nil {
				t.Fatal(err)
			}
			resp := h.Handle(context.Background(), podRequest(t, nil, false))
			if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusForbidden {
				t.Fatalf("want a denial (403), got allowed=%t %+v", resp.Allowed, resp.Result)
			}
			for _, want := range []string{"cannot build the Envoy bootstrap", "refused rather than started without the sidecar", "CustomTag_Literal.Value"} {
				if !strings.Contains(resp.Result.Message, want) {
					t.Errorf("message %q does not contain %q", resp.Result.Message, want)
				}
			}
			if len(resp.Warnings) > 0 || len(resp.Patches) > 0 {
				t.Errorf("a denial carries no warning or patch: %v %v", resp.Warnings, resp.Patches)
			}
		})
	}
}
