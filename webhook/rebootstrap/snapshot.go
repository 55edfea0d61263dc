package rebootstrap

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
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
		Mesh:                  &mc.Spec.Observability,
	}
	nss := &corev1.NamespaceList{}
	if err := reader.List(ctx, nss); err != nil {
		return nil, fmt.Errorf("when listing namespaces: %w", err)
	}
	s.Namespaces = nss.Items
	for _, kind := range []struct {
		what string
		obj  client.Object
		list client.ObjectList
	}{
		{"Deployments", &appsv1.Deployment{}, &appsv1.DeploymentList{}},
		{"StatefulSets", &appsv1.StatefulSet{}, &appsv1.StatefulSetList{}},
		{"DaemonSets", &appsv1.DaemonSet{}, &appsv1.DaemonSetList{}},
	} {
		objs, err := read(ctx, reader, kind.what, kind.obj, kind.list)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if r, ok := RecordOf(o); ok {
				s.Workloads = append(s.Workloads, r)
			}
		}
	}
	objs, err := read(ctx, reader, "pods", podMetadata(), podMetadataList())
	if err != nil {
		return nil, err
	}
	s.Pods = make([]*metav1.PartialObjectMetadata, 0, len(objs))
	for _, o := range objs {
		if p, isPod := o.(*metav1.PartialObjectMetadata); isPod {
			s.Pods = append(s.Pods, p)
		}
	}
	return s, nil
}

// read lists the objects of obj's kind. From a controller-runtime cache it takes them
// straight from the informer's store: the cache's own objects, not a copy of each (with
// 10,000 workloads every pass would copy megabytes), and for workloads the records the
// cache's transform made (NewCache). Any other reader (the CLI's, tests') is listed into
// list, and the items are returned as pointers into it.
func read(ctx context.Context, reader client.Reader, what string, obj client.Object, list client.ObjectList) ([]any, error) {
	if infs, isCache := reader.(cache.Informers); isCache {
		inf, err := infs.GetInformer(ctx, obj)
		if err != nil {
			return nil, fmt.Errorf("when listing %s: %w", what, err)
		}
		if st, ok := inf.(interface{ GetStore() toolscache.Store }); ok {
			return st.GetStore().List(), nil
		}
	}
	if err := reader.List(ctx, list); err != nil {
		return nil, fmt.Errorf("when listing %s: %w", what, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, fmt.Errorf("when listing %s: %w", what, err)
	}
	out := make([]any, len(items))
	for i, o := range items {
		out[i] = o
	}
	return out, nil
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
