package rebootstrap

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// snapshot reads everything Collect needs from the cache.
func (r *Reconciler) snapshot(ctx context.Context, mc *v1alpha2.MeshConfig) (*Snapshot, error) {
	return ReadSnapshot(ctx, r.Reader, r.Options.Namespace, r.Options.Defaults, mc)
}

// ReadSnapshot reads everything Collect needs through reader, for the MeshConfig mc (whose
// spec may be edited in memory: the CLI previews a change this way). controlPlane is the
// control-plane namespace; defaults the layer under the MeshConfig (bootstrap.Defaults of
// controlPlane when zero). The controller reads its cache; the CLI reads the API server with
// the same call, so both plan from the same facts.
func ReadSnapshot(ctx context.Context, reader client.Reader, controlPlane string, defaults bootstrap.Tracing,
	mc *v1alpha2.MeshConfig,
) (*Snapshot, error) {
	if controlPlane == "" {
		controlPlane = bootstrap.DefaultNamespace
	}
	if defaults == (bootstrap.Tracing{}) {
		defaults = bootstrap.Defaults(controlPlane)
	}
	s := &Snapshot{
		ControlPlaneNamespace: controlPlane,
		Defaults:              defaults,
		Mesh:                  &mc.Spec.Observability.Tracing,
	}
	nss := &corev1.NamespaceList{}
	deps := &appsv1.DeploymentList{}
	sts := &appsv1.StatefulSetList{}
	dss := &appsv1.DaemonSetList{}
	pods := podMetadataList()
	for _, l := range []struct {
		what string
		list client.ObjectList
	}{{"namespaces", nss}, {"Deployments", deps}, {"StatefulSets", sts}, {"DaemonSets", dss}, {"pods", pods}} {
		// Collect only reads the snapshot, so a cache may hand out its own objects instead of
		// copying every pod's metadata at each pass (readers of the API server ignore this).
		if err := reader.List(ctx, l.list, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("when listing %s: %w", l.what, err)
		}
	}
	s.Namespaces, s.Deployments, s.StatefulSets, s.DaemonSets, s.Pods = nss.Items, deps.Items, sts.Items, dss.Items, pods.Items
	return s, nil
}

// podMetadata is an empty pod metadata object, for the cache and its watches.
func podMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(bootstrap.KindPod))
	return m
}

func podMetadataList() *metav1.PartialObjectMetadataList {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	return l
}
