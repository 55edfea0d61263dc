package inject

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// decodeChecked decodes obj, found at path (empty for a whole object), into a T as the API
// server would: a value of the wrong JSON type is refused first by its path (checkTypes),
// then the decoder's own errors, prefixed with path.
func decodeChecked[T any](obj map[string]any, path string) (*T, error) {
	if err := checkTypes(obj, reflect.TypeFor[T](), path); err != nil {
		return nil, err
	}
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, out); err != nil {
		if path != "" {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	return out, nil
}

// checkTypes walks v, an object as decoded from YAML or JSON (map[string]any, []any,
// string, bool, int64, float64 or nil), against the Go type t it is to be decoded into and
// returns the first value of the wrong JSON type, naming its path from prefix (map keys
// after a dot, list indexes in brackets, as in
// metadata.annotations.openservicemesh.io/proxy-concurrency or spec.containers[0].ports), the
// value and what is accepted there, as the API server would refuse it. The decoder's own
// error names neither the map key nor the index. Fields t does not know are left alone
// (osm inject keeps them); a null is accepted anywhere, as the API server accepts it.
func checkTypes(v any, t reflect.Type, path string) error {
	if v == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if accepted, ok := specialTypes[t]; ok {
		if !accepted(v) {
			return typeError(path, specialNames[t], v)
		}
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return nil // its own decoding: nothing to say about its form here
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return typeError(path, "an object", v)
		}
		return checkStruct(m, t, path)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return typeError(path, "an object", v)
		}
		for _, k := range sortedKeys(m) {
			if err := checkTypes(m[k], t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				return typeError(path, "string (base64)", v)
			}
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return typeError(path, "a list", v)
		}
		for i, item := range l {
			if err := checkTypes(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return typeError(path, "string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return typeError(path, "boolean", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, ok := v.(int64); !ok {
			return typeError(path, "integer", v)
		}
	case reflect.Float32, reflect.Float64:
		switch v.(type) {
		case int64, float64:
		default:
			return typeError(path, "number", v)
		}
	}
	return nil
}

// checkStruct checks the members of m that t's JSON fields name; embedded structs without a
// name (inline) share m.
func checkStruct(m map[string]any, t reflect.Type, path string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && f.Anonymous {
			if err := checkTypes(m, f.Type, path); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if v, ok := m[name]; ok {
			if err := checkTypes(v, f.Type, join(path, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// specialTypes are the types whose JSON form is not their Go kind's, with the forms they
// accept; specialNames says them.
var (
	specialTypes = map[reflect.Type]func(any) bool{
		reflect.TypeFor[resource.Quantity]():  isStringOrNumber,
		reflect.TypeFor[intstr.IntOrString](): isStringOrInteger,
		reflect.TypeFor[metav1.Time]():        isString,
		reflect.TypeFor[metav1.MicroTime]():   isString,
	}
	specialNames = map[reflect.Type]string{
		reflect.TypeFor[resource.Quantity]():  "a quantity (string or number)",
		reflect.TypeFor[intstr.IntOrString](): "string or integer",
		reflect.TypeFor[metav1.Time]():        "string (a time, RFC 3339)",
		reflect.TypeFor[metav1.MicroTime]():   "string (a time, RFC 3339)",
	}
)

func isString(v any) bool { _, ok := v.(string); return ok }

func isStringOrNumber(v any) bool {
	switch v.(type) {
	case string, int64, float64:
		return true
	}
	return false
}

func isStringOrInteger(v any) bool {
	switch v.(type) {
	case string, int64:
		return true
	}
	return false
}

// typeError says what is at path, and what is accepted there:
// "metadata.annotations.x: expected string, got number 4".
func typeError(path, want string, got any) error {
	err := fmt.Errorf("%s: expected %s, got %s", path, want, describeValue(got))
	switch got.(type) {
	case bool, int64, float64:
		if want == "string" {
			// YAML reads 4, true or 1.5 unquoted as a number or a boolean; Kubernetes wants
			// the string (annotations and labels most often).
			err = fmt.Errorf("%w (quote it: %q)", err, fmt.Sprint(got))
		}
	}
	return err
}

// describeValue is a value's JSON type and, for a scalar, the value itself.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return "string " + strconv.Quote(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case int64:
		return "number " + strconv.FormatInt(x, 10)
	case float64:
		return "number " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
