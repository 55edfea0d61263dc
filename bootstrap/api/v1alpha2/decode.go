package v1alpha2

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// DecodeMeshConfig reads one MeshConfig from YAML or JSON (what kubectl get meshconfig -o
// yaml writes) as the API server reads the object kubectl sends it, and no more leniently:
//
//   - YAML is turned into JSON as kubectl does (sigs.k8s.io/yaml), then decoded as the API
//     server decodes JSON (sigs.k8s.io/json): keys match exactly (ENABLE is no enable), a
//     value of the wrong type is an error naming the field's path (an unquoted 1.10 is a
//     number, not the string "1.10"; yes is a boolean), an unknown field is an error naming
//     its path, a repeated key one naming its line;
//   - the input holds exactly one object: a second document (after --- or ...), or anything
//     after a JSON object, is an error;
//   - .nan and .inf, which JSON cannot hold, are errors naming the field;
//   - apiVersion and kind must be config.openservicemesh.io/v1alpha2 and MeshConfig.
//
// It does not validate the values; bootstrap.MeshTracing applies the CRD's rules.
func DecodeMeshConfig(data []byte) (*MeshConfig, error) {
	doc, err := oneDocument(data)
	if err != nil {
		return nil, err
	}
	mc := &MeshConfig{}
	strict, err := sigsjson.UnmarshalStrict(doc, mc, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return nil, fmt.Errorf("when decoding the MeshConfig: %w", err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("when decoding the MeshConfig: %w", errors.Join(strict...))
	}
	if gv := GroupVersion.String(); mc.APIVersion != gv || mc.Kind != "MeshConfig" {
		return nil, fmt.Errorf("not a MeshConfig: apiVersion %q and kind %q, want %s and MeshConfig", mc.APIVersion, mc.Kind, gv)
	}
	return mc, nil
}

// oneDocument returns the JSON of the one document in data. It splits data on --- lines as
// kubectl does and skips the empty documents (only comments or nothing), as kubectl does;
// a second document that is not empty is an error. Each document is also read with a YAML
// 1.2 parser (checkYAML12), which refuses content after an explicit end (...) that the
// YAML-to-JSON conversion would drop, and finds floats JSON cannot hold (.nan, .inf), which
// the conversion would refuse without naming the field.
func oneDocument(data []byte) ([]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var js []byte
	for {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("when reading the MeshConfig's YAML: %w", err)
		}
		if err := checkYAML12(chunk); err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("when reading the MeshConfig's YAML: %w", err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue // an empty document
		}
		if js != nil {
			return nil, errors.New("the MeshConfig's YAML holds a second document: want exactly one MeshConfig")
		}
		js = j
	}
	if js == nil {
		return nil, errors.New("the MeshConfig's YAML is empty")
	}
	return js, nil
}

// checkYAML12 reads one document of kubectl's splitter with a YAML 1.2 parser: content after
// an explicit end (...) is an error, and so is a float JSON cannot hold.
func checkYAML12(doc []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(doc))
	for docs := 0; ; docs++ {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("when reading the MeshConfig's YAML: %w", err)
		}
		if docs > 0 {
			return fmt.Errorf("the MeshConfig's YAML holds a second document at line %d: want exactly one MeshConfig", n.Line)
		}
		if err := jsonFloats(&n, ""); err != nil {
			return err
		}
	}
}

// jsonFloats reports the first float under n, at path, that JSON cannot represent (.nan,
// .inf), naming its field: the YAML-to-JSON conversion would report it without one.
func jsonFloats(n *yamlv3.Node, path string) error {
	switch n.Kind {
	case yamlv3.ScalarNode:
		if v := strings.ToLower(strings.TrimLeft(n.Value, "+-")); n.Tag != "!!float" || v != ".nan" && v != ".inf" {
			return nil
		}
		return fmt.Errorf("%s: invalid value %s (line %d): not a number JSON can hold", orRoot(path), n.Value, n.Line)
	case yamlv3.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := jsonFloats(n.Content[i+1], join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case yamlv3.SequenceNode:
		for i, c := range n.Content {
			if err := jsonFloats(c, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case yamlv3.DocumentNode:
		for _, c := range n.Content {
			if err := jsonFloats(c, path); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "the document"
	}
	return path
}
