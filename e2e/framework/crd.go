package framework

import (
	"context"
	"fmt"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

var crdResource = schema.GroupVersionResource{
	Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
}

// installCRD creates the CustomResourceDefinition in a one-document YAML file and waits until
// it is Established.
func installCRD(ctx context.Context, r *runner, dyn dynamic.Interface, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("when reading CRD %s: %w", path, err)
	}
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("when decoding CRD %s: %w", path, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(jsonData); err != nil {
		return fmt.Errorf("when decoding CRD %s: %w", path, err)
	}
	name := obj.GetName()
	if _, err := dyn.Resource(crdResource).Create(ctx, obj, metav1.CreateOptions{}); err != nil &&
		!apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("when creating CRD %s: %w", name, err)
	}
	return r.waitFor(ctx, "CRD "+name+" Established", func(ctx context.Context) (bool, error) {
		got, err := dyn.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("getting CRD %s: %w", name, err)
		}
		conds, _, err := unstructured.NestedSlice(got.Object, "status", "conditions")
		if err != nil {
			return false, fmt.Errorf("reading conditions of CRD %s: %w", name, err)
		}
		for _, c := range conds {
			cond, ok := c.(map[string]any)
			if ok && cond["type"] == "Established" && cond["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// InstallCRD creates the CustomResourceDefinition of a one-document YAML file in the cluster
// (an existing one is kept) and waits until it is Established.
func (c *Cluster) InstallCRD(ctx context.Context, path string) error {
	return installCRD(ctx, c.runner, c.dynamic, path)
}
