package crdtest

import (
	"context"
	"fmt"
	"io/fs"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// File is the MeshConfig CRD in manifests.CRDs.
const File = "crds/config.openservicemesh.io_meshconfigs.yaml"

// Validator validates MeshConfig objects as the API server does on a create.
type Validator struct {
	// Data is the CRD's file, as embedded.
	Data []byte
	// Schema is the OpenAPI schema of the served version.
	Schema     *apiextensionsv1.JSONSchemaProps
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	rules      *cel.Validator
}

// New reads the CRD from crds (manifests.CRDs; a parameter, so that package manifests' own
// tests can use this one) and builds its validation.
func New(crds fs.FS) (*Validator, error) {
	data, err := fs.ReadFile(crds, File)
	if err != nil {
		return nil, err
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", File, err)
	}
	v := &Validator{Data: data}
	for _, ver := range crd.Spec.Versions {
		if ver.Name == v1alpha2.GroupVersion.Version && ver.Schema != nil {
			v.Schema = ver.Schema.OpenAPIV3Schema
		}
	}
	if v.Schema == nil {
		return nil, fmt.Errorf("%s has no schema for version %s", File, v1alpha2.GroupVersion.Version)
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema, internal, nil); err != nil {
		return nil, err
	}
	if v.structural, err = structuralschema.NewStructural(internal); err != nil {
		return nil, fmt.Errorf("the schema of %s is not structural: %w", File, err)
	}
	if v.schema, _, err = apiservervalidation.NewSchemaValidator(internal); err != nil {
		return nil, err
	}
	v.rules = cel.NewValidator(v.structural, true, celconfig.PerCallLimit)
	return v, nil
}

// Validate validates obj, a MeshConfig as unstructured content: the schema, the list types,
// then the CEL rules, as the API server does; nil when it would accept it.
func (v *Validator) Validate(obj map[string]any) error {
	if errs := apiservervalidation.ValidateCustomResource(nil, obj, v.schema); len(errs) > 0 {
		return errs.ToAggregate()
	}
	if errs := listtype.ValidateListSetsAndMaps(field.NewPath(""), v.structural, obj); len(errs) > 0 {
		return errs.ToAggregate()
	}
	errs, _ := v.rules.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	return errs.ToAggregate()
}
