package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// BenchmarkServeAdmission is one admission as kube-apiserver sends it, through
// controller-runtime's admission.Webhook (decoding the AdmissionReview, encoding the answer)
// and the real inject.Mutate, in the steady state: the namespace, the MeshConfig and the
// bootstrap ConfigMap are in the informer cache (here a map), so nothing is written. The pod
// is hack/loadbench/load's: the bookbuyer Deployment's, as the ReplicaSet controller creates it.
func BenchmarkServeAdmission(b *testing.B) {
	cache := &benchCache{}
	h, err := NewHandler(HandlerOptions{
		Cache: cache, Writer: benchWriter{},
		ControlPlaneNamespace: "osm-system", MeshConfigName: "osm-mesh-config", Log: logr.Discard(),
	})
	if err != nil {
		b.Fatal(err)
	}
	wh := &admission.Webhook{Handler: h}
	body := benchReview(b)
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, Path+"?timeout=10s", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		wh.ServeHTTP(rec, req)
		return rec
	}
	// The first admission creates the ConfigMap; the cache then holds it.
	rec := serve()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil ||
		!review.Response.Allowed || len(review.Response.Patch) == 0 {
		b.Fatalf("want an allowed answer with a patch, got %d %s (%v)", rec.Code, rec.Body.String(), err)
	}
	cache.haveConfigMap = true
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(); rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}

// benchCache answers as a synced informer cache would: the labelled namespace, a MeshConfig
// with tracing on, and (once created) the bootstrap ConfigMap.
type benchCache struct{ haveConfigMap bool }

func (c *benchCache) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *metav1.PartialObjectMetadata:
		switch o.Kind {
		case "Namespace":
			o.Name, o.Labels = key.Name, map[string]string{bootstrap.InjectionLabel: "enabled"}
			return nil
		case "ConfigMap":
			if c.haveConfigMap {
				o.Name, o.Namespace = key.Name, key.Namespace
				return nil
			}
		}
	case *v1alpha2.MeshConfig:
		o.Name, o.Namespace, o.ResourceVersion = key.Name, key.Namespace, "1"
		o.Spec.Observability.Tracing = v1alpha2.TracingSpec{Enable: ptr.To(true)}
		return nil
	}
	return apierrors.NewNotFound(schema.GroupResource{Resource: "unknown"}, key.Name)
}

func (c *benchCache) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

// benchWriter accepts every Create.
type benchWriter struct{ client.Writer }

func (benchWriter) Create(context.Context, client.Object, ...client.CreateOption) error { return nil }

// benchReview is hack/loadbench/load's AdmissionReview of a bookbuyer pod.
func benchReview(b *testing.B) []byte {
	b.Helper()
	pod := benchPod()
	raw, err := json.Marshal(pod)
	if err != nil {
		b.Fatal(err)
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "6f1c1f6e-2b7a-4f43-9a51-1b2b7c9d0e11", Kind: podKind,
			Resource:    metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			RequestKind: &podKind, RequestResource: &metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: testNS, Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}, DryRun: ptr.To(false),
			UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller",
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
			Options: runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}`)},
		},
	}
	body, err := json.Marshal(&review)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// benchPod is hack/loadbench/load's pod: the bookbuyer Deployment's, as the ReplicaSet controller
// creates it (API defaults, the ServiceAccount and DefaultTolerationSeconds plugins' additions).
func benchPod() *corev1.Pod {
	const token = "kube-api-access-x7k2p"
	tokenMount := corev1.VolumeMount{Name: token, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "bookbuyer-7b5f8d9c4d-", Namespace: testNS,
			Labels: map[string]string{"app": "bookbuyer", "version": "v1", "pod-template-hash": "7b5f8d9c4d"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "bookbuyer-7b5f8d9c4d",
				UID: "5b0c1c1e-5f9a-4d7e-9d3c-3f1f5a0b9e21", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: "bookbuyer", DeprecatedServiceAccount: "bookbuyer",
			RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr.To[int64](30),
			DNSPolicy: corev1.DNSClusterFirst, SecurityContext: &corev1.PodSecurityContext{},
			SchedulerName: corev1.DefaultSchedulerName, Priority: ptr.To[int32](0), EnableServiceLinks: ptr.To(true),
			PreemptionPolicy: ptr.To(corev1.PreemptLowerPriority),
			Containers: []corev1.Container{{
				Name: "bookbuyer", Image: "openservicemesh/bookbuyer:v1.2.0", ImagePullPolicy: corev1.PullAlways,
				Command:                []string{"/bookbuyer"},
				Env:                    []corev1.EnvVar{{Name: "BOOKSTORE_NAMESPACE", Value: "bookstore"}, {Name: "BOOKSTORE_SVC", Value: "bookstore"}},
				VolumeMounts:           []corev1.VolumeMount{tokenMount},
				TerminationMessagePath: corev1.TerminationMessagePathDefault, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			Tolerations: []corev1.Toleration{
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			},
			Volumes: []corev1.Volume{{Name: token, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				DefaultMode: ptr.To[int32](0o644),
				Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
						Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
					{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
						Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
				},
			}}}},
		},
	}
}
