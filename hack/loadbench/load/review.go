package load

import (
	"crypto/rand"
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// The bookbuyer Deployment of the guide's demo, as its ReplicaSet controller creates Pods.
const (
	appName         = "bookbuyer"
	podTemplateHash = "7b5f8d9c4d"
	replicaSetName  = appName + "-" + podTemplateHash
	tokenVolume     = "kube-api-access-x7k2p"
)

// requestFactory builds AdmissionReview request bodies: one Pod, encoded once, and a fresh
// UID per request.
type requestFactory struct {
	namespace string
	dryRun    bool
	pod       runtime.RawExtension
}

func newRequestFactory(namespace string, dryRun bool) (*requestFactory, error) {
	raw, err := json.Marshal(bookbuyerPod(namespace, types.UID(newUID())))
	if err != nil {
		return nil, fmt.Errorf("when encoding the Pod: %w", err)
	}
	return &requestFactory{namespace: namespace, dryRun: dryRun, pod: runtime.RawExtension{Raw: raw}}, nil
}

// next returns a request body and its UID.
func (f *requestFactory) next() ([]byte, types.UID, error) {
	uid := types.UID(newUID())
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:                uid,
			Kind:               metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:           metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			RequestKind:        &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			RequestResource:    &metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace:          f.namespace,
			Operation:          admissionv1.Create,
			UserInfo:           replicaSetController(),
			Object:             f.pod,
			DryRun:             ref(f.dryRun),
			Options:            runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}`)},
			SubResource:        "",
			Name:               "", // generateName: the name is chosen after admission
			RequestSubResource: "",
		},
	}
	body, err := json.Marshal(&review)
	if err != nil {
		return nil, "", fmt.Errorf("when encoding an AdmissionReview: %w", err)
	}
	return body, uid, nil
}

// replicaSetController is the identity kube-apiserver reports for Pods the ReplicaSet
// controller creates (with --use-service-account-credentials).
func replicaSetController() authenticationv1.UserInfo {
	return authenticationv1.UserInfo{
		Username: "system:serviceaccount:kube-system:replicaset-controller",
		UID:      "9a6c1c55-0f5e-4c36-9d0c-1f3bb0d0d4a1",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"},
	}
}

// bookbuyerPod is the Pod as the webhook receives it: the ReplicaSet's template, API
// defaults applied, and the ServiceAccount and DefaultTolerationSeconds admission plugins'
// additions (they run before mutating webhooks).
func bookbuyerPod(namespace string, replicaSetUID types.UID) *corev1.Pod {
	tokenMount := corev1.VolumeMount{
		Name: tokenVolume, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
	}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: replicaSetName + "-",
			Namespace:    namespace,
			Labels:       map[string]string{"app": appName, "version": "v1", "pod-template-hash": podTemplateHash},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: replicaSetName, UID: replicaSetUID,
				Controller: ref(true), BlockOwnerDeletion: ref(true),
			}},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName:            appName,
			DeprecatedServiceAccount:      appName,
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ref[int64](30),
			DNSPolicy:                     corev1.DNSClusterFirst,
			SecurityContext:               &corev1.PodSecurityContext{},
			SchedulerName:                 corev1.DefaultSchedulerName,
			Priority:                      ref[int32](0),
			EnableServiceLinks:            ref(true),
			PreemptionPolicy:              ref(corev1.PreemptLowerPriority),
			Containers: []corev1.Container{{
				Name:            appName,
				Image:           "openservicemesh/bookbuyer:v1.2.0",
				ImagePullPolicy: corev1.PullAlways,
				Command:         []string{"/bookbuyer"},
				Env: []corev1.EnvVar{
					{Name: "BOOKSTORE_NAMESPACE", Value: "bookstore"},
					{Name: "BOOKSTORE_SVC", Value: "bookstore"},
				},
				VolumeMounts:             []corev1.VolumeMount{tokenMount},
				TerminationMessagePath:   corev1.TerminationMessagePathDefault,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			Tolerations: []corev1.Toleration{
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
					TolerationSeconds: ref[int64](300)},
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
					TolerationSeconds: ref[int64](300)},
			},
			Volumes: []corev1.Volume{{
				Name: tokenVolume,
				VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					DefaultMode: ref[int32](0o644),
					Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
							Path: "token", ExpirationSeconds: ref[int64](3607),
						}},
						{ConfigMap: &corev1.ConfigMapProjection{
							LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
							Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
						}},
						{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
							Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
						}}}},
					},
				}},
			}},
		},
	}
}

// newUID is a random RFC 4122 version 4 UUID, like the UIDs kube-apiserver gives requests.
func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ref returns a pointer to v.
func ref[T any](v T) *T { return &v }
