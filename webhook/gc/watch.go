package gc

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

func isManaged(o client.Object) bool {
	return o.GetLabels()[bootstrap.ManagedByLabel] == bootstrap.ManagedByValue
}

func managedPredicate() predicate.Predicate {
	return predicate.NewPredicateFuncs(isManaged)
}

// podPredicate lets through the pod events that can change whether a ConfigMap is referenced:
// creations and deletions of pods with a hash, and changes of the hash label.
func podPredicate() predicate.Predicate {
	hashOf := func(o client.Object) string { return o.GetLabels()[bootstrap.BootstrapHashKey] }
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return hashOf(e.Object) != "" },
		DeleteFunc:  func(e event.DeleteEvent) bool { return hashOf(e.Object) != "" },
		UpdateFunc:  func(e event.UpdateEvent) bool { return hashOf(e.ObjectOld) != hashOf(e.ObjectNew) },
		GenericFunc: func(e event.GenericEvent) bool { return hashOf(e.Object) != "" },
	}
}

// podHandler maps a pod to the managed ConfigMaps of its namespace that carry its hash (the
// old and the new pod of an update are both mapped).
func podHandler(c client.Reader) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, pod client.Object) []reconcile.Request {
		hash := pod.GetLabels()[bootstrap.BootstrapHashKey]
		if hash == "" {
			return nil
		}
		cms := &metav1.PartialObjectMetadataList{}
		cms.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
		err := c.List(ctx, cms, client.InNamespace(pod.GetNamespace()), client.MatchingLabels{
			bootstrap.ManagedByLabel:   bootstrap.ManagedByValue,
			bootstrap.BootstrapHashKey: hash,
		})
		if err != nil {
			log.FromContext(ctx).Error(err, "when listing the ConfigMaps of a pod's bootstrap hash",
				"namespace", pod.GetNamespace(), "hash", hash)
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(cms.Items))
		for _, cm := range cms.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&cm)})
		}
		return reqs
	})
}
