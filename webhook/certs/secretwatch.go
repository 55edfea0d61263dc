package certs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// SecretProvider is a Provider that serves the certificate an outside issuer (cert-manager)
// keeps in a kubernetes.io/tls Secret, read through the API: an informer on that one Secret
// delivers every renewal at once, without a restart and without waiting for a kubelet to
// refresh a volume.
//
// It is what the chart uses with certificateProvider=cert-manager, because it sees what a
// Secret volume hides: when the Secret is deleted, Ready reports it at once (a volume keeps the
// old files), and the replica leaves the Service's endpoints until cert-manager issues the
// Secret again; meanwhile it keeps serving the last certificate, which is still valid and
// trusted. It needs get, list and watch on Secrets of the namespace. See externalCert for what
// it promises.
type SecretProvider struct {
	externalCert
	client    kubernetes.Interface
	namespace string
	name      string
	started   atomic.Bool
}

var _ Provider = (*SecretProvider)(nil)

// NewSecretProvider makes a provider of the Secret namespace/name. Nothing is read before
// Start. clk may be nil (the system clock).
func NewSecretProvider(client kubernetes.Interface, namespace, name string, clk clock.PassiveClock) (*SecretProvider, error) {
	switch {
	case client == nil:
		return nil, errors.New("certs: NewSecretProvider needs a client")
	case namespace == "" || name == "":
		return nil, errors.New("certs: NewSecretProvider needs the Secret's namespace and name")
	}
	ref := namespace + "/" + name
	return &SecretProvider{
		externalCert: newExternalCert("Secret "+ref, clk, logf.Log.WithName("webhook-certs").WithValues("secret", ref)),
		client:       client,
		namespace:    namespace,
		name:         name,
	}, nil
}

// WithLogger sets the logger (before Start) and returns the provider.
func (s *SecretProvider) WithLogger(log logr.Logger) *SecretProvider {
	s.log = log
	return s
}

// Start watches the Secret until ctx ends. It returns nil when ctx ends.
func (s *SecretProvider) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errStartedTwice
	}
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
		informers.WithNamespace(s.namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", s.name).String()
		}))
	informer := factory.Core().V1().Secrets().Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.onSecret,
		UpdateFunc: func(_, obj any) { s.onSecret(obj) },
		DeleteFunc: s.onDelete,
	}); err != nil {
		return fmt.Errorf("when watching Secret %s/%s: %w", s.namespace, s.name, err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		if _, exists, err := informer.GetStore().GetByKey(s.namespace + "/" + s.name); err == nil && !exists {
			s.fail(fmt.Errorf("the Secret %s/%s does not exist yet; waiting for its issuer (cert-manager) to issue it "+
				"(kubectl describe certificate -n %s)", s.namespace, s.name, s.namespace))
		}
	}
	<-ctx.Done()
	return nil
}

// onSecret offers the Secret's key pair.
func (s *SecretProvider) onSecret(obj any) {
	secret, ok := obj.(*corev1.Secret)
	if !ok || secret.Name != s.name || secret.Namespace != s.namespace {
		return
	}
	s.offer(secret.Data[KeyServingCert], secret.Data[KeyServingKey])
}

// onDelete records that the Secret is gone; the last good pair stays served.
func (s *SecretProvider) onDelete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if secret, ok := obj.(*corev1.Secret); ok && (secret.Name != s.name || secret.Namespace != s.namespace) {
		return
	}
	s.fail(fmt.Errorf("the Secret %s/%s was deleted; waiting for its issuer (cert-manager) to issue it again", s.namespace, s.name))
}
