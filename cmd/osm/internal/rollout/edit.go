package rollout

import (
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"sigs.k8s.io/yaml"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// MergePatchEdit returns an edit for Load and Preview that applies patch, a JSON merge patch
// (RFC 7386, what kubectl patch --type=merge -p takes; YAML is accepted too) to the whole
// MeshConfig object, e.g. {"spec":{"observability":{"tracing":{"sampling":40}}}}. The patched
// object is decoded strictly (an unknown field or a value of the wrong type is an error that
// names it) and its tracing settings are validated as the controller does. flag names the
// flag in errors ("-p").
func MergePatchEdit(flag string, patch []byte) func(*v1alpha2.MeshConfig) error {
	return func(mc *v1alpha2.MeshConfig) error {
		body, err := yaml.YAMLToJSON(patch)
		if err != nil {
			return fmt.Errorf("%s: not a JSON merge patch: %w", flag, err)
		}
		var asObject map[string]any
		if err := json.Unmarshal(body, &asObject); err != nil || asObject == nil {
			return fmt.Errorf("%s: not a JSON merge patch: it must be a JSON object, e.g. "+
				`'{"spec":{"observability":{"tracing":{"sampling":40}}}}'`, flag)
		}
		doc, err := json.Marshal(mc)
		if err != nil {
			return fmt.Errorf("when encoding MeshConfig %s/%s: %w", mc.Namespace, mc.Name, err)
		}
		patched, err := jsonpatch.MergePatch(doc, body)
		if err != nil {
			return fmt.Errorf("%s: when applying the merge patch: %w", flag, err)
		}
		var out v1alpha2.MeshConfig
		if err := yaml.UnmarshalStrict(patched, &out); err != nil {
			return fmt.Errorf("%s: the patched MeshConfig is not valid: %w", flag, err)
		}
		if err := validate(&out); err != nil {
			return fmt.Errorf("%s: the patched MeshConfig is not valid: %w", flag, err)
		}
		*mc = out
		return nil
	}
}

// SpecFileEdit returns an edit for Load and Preview that replaces the MeshConfig's spec with
// the spec of data, a MeshConfig manifest (YAML or JSON, decoded strictly), and validates its
// tracing settings as the controller does. name names the file in errors.
func SpecFileEdit(name string, data []byte) func(*v1alpha2.MeshConfig) error {
	return func(mc *v1alpha2.MeshConfig) error {
		var file v1alpha2.MeshConfig
		if err := yaml.UnmarshalStrict(data, &file); err != nil {
			return fmt.Errorf("-f %s: not a valid MeshConfig: %w", name, err)
		}
		if file.Kind != "MeshConfig" {
			return fmt.Errorf("-f %s: not a MeshConfig: its kind is %q, want MeshConfig (apiVersion %s)",
				name, file.Kind, v1alpha2.GroupVersion)
		}
		edited := mc.DeepCopy()
		edited.Spec = file.Spec
		if err := validate(edited); err != nil {
			return fmt.Errorf("-f %s: %w", name, err)
		}
		*mc = *edited
		return nil
	}
}

// validate checks the MeshConfig's tracing settings the way the controller does before it
// plans (on the layer under the MeshConfig of the MeshConfig's own namespace); each error
// names the field, the value and the accepted form.
func validate(mc *v1alpha2.MeshConfig) error {
	if _, err := bootstrap.MeshTracing(bootstrap.Defaults(controlPlaneOf(mc)), &mc.Spec.Observability); err != nil {
		return err
	}
	return nil
}

func controlPlaneOf(mc *v1alpha2.MeshConfig) string {
	if mc.Namespace == "" {
		return bootstrap.DefaultNamespace
	}
	return mc.Namespace
}
