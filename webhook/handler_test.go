package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

const testNS = "bookbuyer"

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha2.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeMutate injects a marker container and a hash label (only the label on the pod's
// annotation "test/add-nothing"), or refuses/skips on "test/deny" and "test/skip", or panics
// on "test/panic".
func fakeMutate(pod *corev1.Pod, ns inject.Namespace, _ inject.Env) (inject.Result, error) {
	switch {
	case pod.Annotations["test/panic"] != "":
		panic("boom")
	case pod.Annotations["test/deny"] != "":
		return inject.Result{}, errors.Join(&bootstrap.FieldError{
			Source: bootstrap.SourcePod, Field: bootstrap.AnnotationPort, Value: pod.Annotations["test/deny"], Accepted: "1..65535",
		})
	case pod.Annotations["test/fail"] != "":
		return inject.Result{}, errors.New(pod.Annotations["test/fail"])
	case pod.Annotations["test/skip"] != "":
		return inject.Result{Skipped: true, Reason: pod.Annotations["test/skip"], Pod: pod}, nil
	}
	g := bootstrap.Generated{Settings: bootstrap.Settings{ServiceName: "bookbuyer"}, YAML: []byte("{}"), Hash: "abc123"}
	added := inject.Additions{Labels: map[string]string{bootstrap.BootstrapHashKey: g.Hash}}
	if pod.Annotations["test/add-nothing"] == "" {
		added.InitContainers = []corev1.Container{{Name: "envoy", Image: "envoy"}}
	}
	out := pod.DeepCopy()
	out.Spec.InitContainers = append(out.Spec.InitContainers, added.InitContainers...)
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	out.Labels[bootstrap.BootstrapHashKey] = g.Hash
	return inject.Result{Settings: g.Settings, Bootstrap: g, ConfigMap: bootstrap.ConfigMap(ns.Name, g), Pod: out, Added: added}, nil
}

type fixture struct {
	handler *Handler
	client  client.Client
	creates atomic.Int32
}

func newFixture(t *testing.T, policy admissionregistrationv1.FailurePolicyType, createErr error, objs ...client.Object) *fixture {
	t.Helper()
	f := &fixture{}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}}
	f.client = fake.NewClientBuilder().
		WithScheme(testScheme(t)).
		WithObjects(append(objs, ns)...).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				f.creates.Add(1)
				if createErr != nil {
					return createErr
				}
				return c.Create(ctx, obj, opts...)
			},
		}).
		Build()
	h, err := NewHandler(HandlerOptions{
		Cache: f.client, Writer: f.client,
		ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config",
		FailurePolicy: policy, Log: logr.Discard(), Mutate: fakeMutate,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.handler = h
	return f
}

func podRequest(t *testing.T, annotations map[string]string, dryRun bool) admission.Request {
	t.Helper()
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "bookbuyer-", Namespace: testNS, Annotations: annotations},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "bookbuyer"}}},
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid-1", Kind: podKind, Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: testNS, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}, DryRun: ptr.To(dryRun),
	}}
}

func (f *fixture) configMaps(t *testing.T) []corev1.ConfigMap {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := f.client.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestHandlerInjectsAndCreatesTheConfigMapOnce(t *testing.T) {
	f := newFixture(t, admissionregistrationv1.Ignore, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp := f.handler.Handle(context.Background(), podRequest(t, nil, false))
			if !resp.Allowed || len(resp.Patches) == 0 {
				t.Errorf("want an allowed response with a patch, got %+v", resp.Result)
			}
		})
	}
	wg.Wait()
	if n := f.creates.Load(); n != 1 {
		t.Errorf("want exactly one Create for eight concurrent admissions, got %d", n)
	}
	if cms := f.configMaps(t); len(cms) != 1 || cms[0].Labels[bootstrap.ManagedByLabel] != bootstrap.ManagedByValue {
		t.Errorf("want one managed ConfigMap, got %+v", cms)
	}
	// Later admissions find it (known set or cache) and create nothing.
	f.handler.Handle(context.Background(), podRequest(t, nil, false))
	if n := f.creates.Load(); n != 1 {
		t.Errorf("a later admission created again: %d creates", n)
	}
}

func TestHandlerAnswers(t *testing.T) {
	cases := map[string]struct {
		policy     admissionregistrationv1.FailurePolicyType
		createErr  error
		req        func(t *testing.T) admission.Request
		allowed    bool
		code       int32
		message    string
		patched    bool
		warned     bool
		configMaps int
	}{
		"an undecodable pod is a bad request": {
			req: func(t *testing.T) admission.Request {
				r := podRequest(t, nil, false)
				r.Object.Raw = []byte("{not json")
				return r
			},
			code: http.StatusBadRequest,
		},
		"a request with no object is a bad request": {
			req: func(t *testing.T) admission.Request {
				r := podRequest(t, nil, false)
				r.Object.Raw = nil
				return r
			},
			code: http.StatusBadRequest,
		},
		"another kind is allowed unchanged": {
			req: func(t *testing.T) admission.Request {
				r := podRequest(t, nil, false)
				r.Kind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
				return r
			},
			allowed: true, code: http.StatusOK,
		},
		"an UPDATE is allowed unchanged": {
			req: func(t *testing.T) admission.Request {
				r := podRequest(t, nil, false)
				r.Operation = admissionv1.Update
				return r
			},
			allowed: true, code: http.StatusOK,
		},
		"a dry run is patched and writes nothing": {
			req:     func(t *testing.T) admission.Request { return podRequest(t, nil, true) },
			allowed: true, patched: true,
		},
		"AlreadyExists is success": {
			createErr: apierrors.NewAlreadyExists(corev1.Resource("configmaps"), "x"),
			req:       func(t *testing.T) admission.Request { return podRequest(t, nil, false) },
			allowed:   true, patched: true,
		},
		"a user error is denied with its message": {
			req: func(t *testing.T) admission.Request {
				return podRequest(t, map[string]string{"test/deny": "99999"}, false)
			},
			code:    http.StatusForbidden,
			message: (&bootstrap.FieldError{Source: bootstrap.SourcePod, Field: bootstrap.AnnotationPort, Value: "99999", Accepted: "1..65535"}).Error(),
		},
		"a fault of the core is an internal error, not a denial": {
			policy: admissionregistrationv1.Fail,
			req: func(t *testing.T) admission.Request {
				return podRequest(t, map[string]string{"test/fail": "bad proxy config"}, false)
			},
			code:    http.StatusInternalServerError,
			message: "bad proxy config",
		},
		"an injector that adds no container is an internal error, not a pod without the sidecar": {
			policy: admissionregistrationv1.Fail,
			req: func(t *testing.T) admission.Request {
				return podRequest(t, map[string]string{"test/add-nothing": "y"}, false)
			},
			code:    http.StatusInternalServerError,
			message: "added no container",
		},
		"a skipped pod is allowed with the reason": {
			req: func(t *testing.T) admission.Request {
				return podRequest(t, map[string]string{"test/skip": "opted out"}, false)
			},
			allowed: true, code: http.StatusOK, message: "opted out",
		},
		"an internal error under Ignore admits the pod without the sidecar": {
			policy:    admissionregistrationv1.Ignore,
			createErr: errors.New("etcd is on fire"),
			req:       func(t *testing.T) admission.Request { return podRequest(t, nil, false) },
			allowed:   true, warned: true, message: "etcd is on fire",
		},
		"an internal error under Fail is a 500": {
			policy:    admissionregistrationv1.Fail,
			createErr: errors.New("etcd is on fire"),
			req:       func(t *testing.T) admission.Request { return podRequest(t, nil, false) },
			code:      http.StatusInternalServerError, message: "etcd is on fire",
		},
		"a panic under Fail is recovered as a 500": {
			policy: admissionregistrationv1.Fail,
			req: func(t *testing.T) admission.Request {
				return podRequest(t, map[string]string{"test/panic": "y"}, false)
			},
			code:    http.StatusInternalServerError,
			message: "panic: boom",
		},
		"a panic under Ignore is recovered and the pod admitted": {
			policy: admissionregistrationv1.Ignore,
			req: func(t *testing.T) admission.Request {
				return podRequest(t, map[string]string{"test/panic": "y"}, false)
			},
			allowed: true, warned: true, message: "panic: boom",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, tc.policy, tc.createErr)
			resp := f.handler.Handle(context.Background(), tc.req(t))
			if resp.Allowed != tc.allowed {
				t.Errorf("allowed = %t, want %t (%+v)", resp.Allowed, tc.allowed, resp.Result)
			}
			if tc.code != 0 && (resp.Result == nil || resp.Result.Code != tc.code) {
				t.Errorf("code: want %d, got %+v", tc.code, resp.Result)
			}
			if tc.message != "" && (resp.Result == nil || !strings.Contains(resp.Result.Message, tc.message)) {
				t.Errorf("message: want it to contain %q, got %+v", tc.message, resp.Result)
			}
			if got := len(resp.Patches) > 0; got != tc.patched {
				t.Errorf("patched = %t, want %t", got, tc.patched)
			}
			if got := len(resp.Warnings) > 0; got != tc.warned {
				t.Errorf("warned = %t, want %t (%v)", got, tc.warned, resp.Warnings)
			}
			if cms := f.configMaps(t); len(cms) != tc.configMaps {
				t.Errorf("want %d ConfigMaps, got %d", tc.configMaps, len(cms))
			}
		})
	}
}

func TestHandlerDryRunNeverCreates(t *testing.T) {
	f := newFixture(t, admissionregistrationv1.Ignore, nil)
	resp := f.handler.Handle(context.Background(), podRequest(t, nil, true))
	if !resp.Allowed || len(resp.Patches) == 0 {
		t.Fatalf("want the injected pod on a dry run, got %+v", resp.Result)
	}
	if n := f.creates.Load(); n != 0 {
		t.Errorf("a dry run called Create %d times", n)
	}
}
