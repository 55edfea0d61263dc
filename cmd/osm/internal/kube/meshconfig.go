package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// MeshConfigResource is the MeshConfig's API resource.
var MeshConfigResource = schema.GroupVersionResource{
	Group: v1alpha2.GroupVersion.Group, Version: v1alpha2.GroupVersion.Version, Resource: "meshconfigs",
}

// MeshConfigCRDName is the name of the MeshConfig CustomResourceDefinition.
const MeshConfigCRDName = "meshconfigs.config.openservicemesh.io"

// GetMeshConfig reads the MeshConfig ns/name. A missing MeshConfig (or a cluster without the
// CRD) is reported with an error for which apierrors.IsNotFound holds.
func GetMeshConfig(ctx context.Context, dyn dynamic.Interface, ns, name string) (*v1alpha2.MeshConfig, error) {
	u, err := dyn.Resource(MeshConfigResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	mc := &v1alpha2.MeshConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, mc); err != nil {
		return nil, fmt.Errorf("when decoding MeshConfig %s/%s: %w", ns, name, err)
	}
	return mc, nil
}

// ListMeshConfigs lists the MeshConfigs of every namespace; none (and no error) when the CRD
// is not installed.
func ListMeshConfigs(ctx context.Context, dyn dynamic.Interface) ([]v1alpha2.MeshConfig, error) {
	list, err := dyn.Resource(MeshConfigResource).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("when listing MeshConfigs: %w", err)
	}
	out := make([]v1alpha2.MeshConfig, 0, len(list.Items))
	for i := range list.Items {
		var mc v1alpha2.MeshConfig
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &mc); err != nil {
			return nil, fmt.Errorf("when decoding MeshConfig %s/%s: %w",
				list.Items[i].GetNamespace(), list.Items[i].GetName(), err)
		}
		out = append(out, mc)
	}
	return out, nil
}
