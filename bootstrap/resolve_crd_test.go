package bootstrap_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/manifests"
	"github.com/osm-tracing/osm-tracing/manifests/crdtest"
)

// This file walks the values the MeshConfig CRD accepts (its OpenAPI schema and CEL rules, as
// the API server evaluates them) through Resolve and Generate. The values are not a list kept
// by hand: they are derived from each field's schema (its type, enum, minimum and maximum,
// minLength and maxLength) and probe strings over ASCII and a few hostile runes, and the
// CRD itself says which it accepts. A field added to the CRD is walked without a change here.

// crdTracing is the MeshConfig CRD's spec.observability.tracing schema and a check of a
// tracing object (unstructured) as the API server checks a create: the OpenAPI schema, the
// list-map keys, then the CEL rules.
type crdTracing struct {
	props    apiextensionsv1.JSONSchemaProps
	validate func(tracing map[string]any) error
}

func loadCRDTracing(t *testing.T) crdTracing {
	t.Helper()
	v, err := crdtest.New(manifests.CRDs)
	if err != nil {
		t.Fatal(err)
	}
	tracing := v.Schema.Properties["spec"].Properties["observability"].Properties["tracing"]
	if len(tracing.Properties) == 0 {
		t.Fatalf("%s has no spec.observability.tracing properties", crdtest.File)
	}
	return crdTracing{props: tracing, validate: func(tr map[string]any) error {
		return v.Validate(map[string]any{
			"apiVersion": v1alpha2.GroupVersion.String(), "kind": "MeshConfig",
			"metadata": map[string]any{"name": "osm-mesh-config", "namespace": "osm-system"},
			"spec":     map[string]any{"observability": map[string]any{"tracing": tr}},
		})
	}}
}

// probeRunes are the characters probe strings are made of: printable ASCII, a tab, and
// runes that Unicode case folding maps onto ASCII letters or that look like them.
var probeRunes = func() []string {
	var out []string
	for c := ' '; c <= '~'; c++ {
		out = append(out, string(c))
	}
	return append(out, "\t", "\n", "\u00e9", "\u212a", "\u017f", "\u0131", "\u00a0")
}()

// probeClasses are one character of each kind, for the three-character probes.
var probeClasses = []string{"a", "Z", "0", ".", "-", "/", ":", "#", " ", ",", "\u212a"}

// stringForms are the strings to try on a string field: the empty string, every probe rune,
// every two-rune string that begins with the first rune the field accepts alone, every
// accepted rune followed by each of probeClasses, every three-rune string over probeClasses, and strings of the schema's minLength and maxLength (and one
// byte either side) made by repeating accepted short strings. accepts is the CRD's verdict
// on the field alone.
func stringForms(p apiextensionsv1.JSONSchemaProps, accepts func(string) bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(p.Enum) > 0 {
		for _, e := range p.Enum {
			var s string
			if err := json.Unmarshal(e.Raw, &s); err == nil {
				add(s)
				add(strings.ToUpper(s))
				add(s + " ")
			}
		}
		add("")
		return out
	}
	add("")
	var good []string
	for _, r := range probeRunes {
		add(r)
		if accepts(r) {
			good = append(good, r)
		}
	}
	for i, g := range good {
		second := probeClasses
		if i == 0 {
			second = probeRunes
		}
		for _, r := range second {
			add(g + r)
		}
	}
	for _, a := range probeClasses {
		for _, b := range probeClasses {
			for _, c := range probeClasses {
				add(a + b + c)
			}
		}
	}
	var seeds []string
	for _, s := range out {
		if len(seeds) < 6 && len(s) > 0 && accepts(s) {
			seeds = append(seeds, s)
		}
	}
	var lengths []int
	if p.MinLength != nil {
		lengths = append(lengths, int(*p.MinLength), int(*p.MinLength)+1)
	}
	if p.MaxLength != nil {
		lengths = append(lengths, int(*p.MaxLength)-1, int(*p.MaxLength), int(*p.MaxLength)+1)
	}
	for _, seed := range seeds {
		for _, n := range lengths {
			if n > 0 {
				add(strings.Repeat(seed, n/len(seed)+1)[:n])
			}
		}
	}
	return out
}

// numberForms are the bounds of a numeric field, one step either side, the midpoint and a
// fraction; integers for an integer field.
func numberForms(p apiextensionsv1.JSONSchemaProps) []any {
	lo, hi := -1e6, 1e6
	if p.Minimum != nil {
		lo = *p.Minimum
	}
	if p.Maximum != nil {
		hi = *p.Maximum
	}
	fs := []float64{lo - 1, lo, lo + 1, (lo + hi) / 2, hi - 1, hi, hi + 1, 0}
	var out []any
	for _, f := range fs {
		if p.Type == "integer" {
			out = append(out, int64(f))
			continue
		}
		out = append(out, f)
	}
	if p.Type == "number" {
		out = append(out, lo+0.5, hi-0.5, lo+1e-9, hi-1e-9, 12.5)
	}
	return out
}

// scalarForms are the values to try on a scalar field of the tracing spec.
func scalarForms(p apiextensionsv1.JSONSchemaProps, accepts func(any) bool) []any {
	switch p.Type {
	case "boolean":
		return []any{true, false}
	case "integer", "number":
		return numberForms(p)
	case "string":
		var out []any
		for _, s := range stringForms(p, func(s string) bool { return accepts(s) }) {
			out = append(out, s)
		}
		return out
	}
	return nil
}

// tracingForms are the tracing objects to try: every form of each field alone, and, for the
// fields the tracing object's own CEL rules name (self.endpoint, say), with each protocol.
// Array fields
// are lists of their items' forms: each object form alone, and lists of maxItems and
// maxItems+1 distinct items.
func tracingForms(t *testing.T, crd crdTracing) []map[string]any {
	t.Helper()
	var protocols []any
	for _, e := range crd.props.Properties["protocol"].Enum {
		var s string
		if err := json.Unmarshal(e.Raw, &s); err != nil {
			t.Fatal(err)
		}
		protocols = append(protocols, s)
	}
	if len(protocols) == 0 {
		t.Fatal("the CRD's protocol has no enum")
	}
	crossField := map[string]bool{}
	for _, rule := range crd.props.XValidations {
		for name := range crd.props.Properties {
			if strings.Contains(rule.Rule, "self."+name) {
				crossField[name] = true
			}
		}
	}
	if len(crd.props.XValidations) > 0 && len(crossField) == 0 {
		t.Fatal("the tracing object's CEL rules name none of its fields: teach this test their form")
	}
	names := make([]string, 0, len(crd.props.Properties))
	for name := range crd.props.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []map[string]any
	for _, name := range names {
		p := crd.props.Properties[name]
		var values []any
		switch p.Type {
		case "array":
			values = arrayForms(t, crd, name, p)
		case "object":
			values = objectForms(crd, name, p)
		default:
			values = scalarForms(p, func(v any) bool { return crd.validate(map[string]any{name: v}) == nil })
		}
		if len(values) == 0 {
			t.Fatalf("no forms for spec.observability.tracing.%s of type %q: teach this test the type", name, p.Type)
		}
		for _, v := range values {
			out = append(out, map[string]any{name: v})
			if name != "protocol" && crossField[name] {
				for _, proto := range protocols {
					out = append(out, map[string]any{name: v, "protocol": proto})
				}
			}
		}
	}
	return out
}

// arrayForms are the lists to try on an array-of-objects field.
func arrayForms(t *testing.T, crd crdTracing, name string, p apiextensionsv1.JSONSchemaProps) []any {
	t.Helper()
	if p.Items == nil || p.Items.Schema == nil || p.Items.Schema.Type != "object" {
		t.Fatalf("spec.observability.tracing.%s: an array of something else than objects: teach this test", name)
	}
	item := p.Items.Schema
	// base is the smallest item the CRD accepts: one string per property, the required ones
	// first; the others are tried one at a time.
	keys := make([]string, 0, len(item.Properties))
	for k := range item.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	listOf := func(items ...map[string]any) []any {
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = it
		}
		return out
	}
	accepted := func(items ...map[string]any) bool {
		return crd.validate(map[string]any{name: listOf(items...)}) == nil
	}
	// A base item: the required properties with the first value the CRD accepts, plus the
	// first optional property that makes the item accepted.
	base := map[string]any{}
	for _, k := range item.Required {
		base[k] = "x"
	}
	if !accepted(base) {
		for _, k := range keys {
			if slices.Contains(item.Required, k) {
				continue
			}
			try := maps.Clone(base)
			try[k] = "x"
			if accepted(try) {
				base = try
				break
			}
		}
	}
	if !accepted(base) {
		t.Fatalf("spec.observability.tracing.%s: found no item the CRD accepts", name)
	}
	var out []any
	for _, k := range keys {
		kp := item.Properties[k]
		// Each property's forms over the base item, and without the base's optional values
		// (so that a property that excludes another is tried alone too).
		alone := map[string]any{}
		for _, r := range item.Required {
			alone[r] = base[r]
		}
		vals := scalarForms(kp, func(v any) bool {
			a, b := maps.Clone(base), maps.Clone(alone)
			a[k], b[k] = v, v
			return accepted(a) || accepted(b)
		})
		for _, v := range vals {
			a, b := maps.Clone(base), maps.Clone(alone)
			a[k], b[k] = v, v
			out = append(out, listOf(a), listOf(b))
		}
	}
	out = append(out, listOf(), listOf(base, base))
	key := item.Required
	if p.MaxItems != nil && len(key) == 1 {
		for _, n := range []int64{*p.MaxItems, *p.MaxItems + 1} {
			items := make([]map[string]any, n)
			for i := range items {
				items[i] = maps.Clone(base)
				items[i][key[0]] = fmt.Sprintf("t%d", i)
			}
			out = append(out, listOf(items...))
		}
	}
	return out
}

// objectForms are the forms of an object field: each of its properties' forms alone.
func objectForms(crd crdTracing, name string, p apiextensionsv1.JSONSchemaProps) []any {
	var out []any
	keys := make([]string, 0, len(p.Properties))
	for k := range p.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range scalarForms(p.Properties[k], func(v any) bool {
			return crd.validate(map[string]any{name: map[string]any{k: v}}) == nil
		}) {
			out = append(out, map[string]any{k: v})
		}
	}
	return out
}

// cappedErrors is a walk's t.Errorf that reports the first 20 failures and counts the
// rest, which done reports in one line at the end.
func cappedErrors(t *testing.T) (fail func(format string, args ...any), done func()) {
	const most = 20
	n := 0
	fail = func(format string, args ...any) {
		t.Helper()
		if n++; n <= most {
			t.Errorf(format, args...)
		}
	}
	done = func() {
		t.Helper()
		if n > most {
			t.Errorf("... and %d more", n-most)
		}
	}
	return fail, done
}

// TestCRDAcceptedFormsRender: every tracing value the MeshConfig CRD accepts is accepted by
// Resolve, and the settings render: Generate (which validates the bootstrap with Envoy's
// proto rules) succeeds, with tracing on. A value the CRD refuses is not tried. Resolve
// being stricter than the CRD would leave a MeshConfig the API server accepted unusable;
// Generate failing would refuse the mesh's pods.
func TestCRDAcceptedFormsRender(t *testing.T) {
	crd := loadCRDTracing(t)
	forms := tracingForms(t, crd)
	defaults := bootstrap.Defaults("osm-system")
	generated := map[bootstrap.Settings]bool{}
	accepted := 0
	fail, failed := cappedErrors(t)
	for _, tr := range forms {
		if crd.validate(tr) != nil {
			continue
		}
		accepted++
		raw, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		var spec v1alpha2.TracingSpec
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			fail("the CRD accepts %s, which v1alpha2.TracingSpec cannot hold: %v", raw, err)
			continue
		}
		s, err := bootstrap.Resolve(bootstrap.Input{Defaults: defaults, Mesh: &v1alpha2.ObservabilitySpec{Tracing: spec}, NamespaceName: "shop", PodName: "web"})
		if err != nil {
			fail("the CRD accepts %s; Resolve refuses it: %v", raw, err)
			continue
		}
		s.Tracing.Enable = true
		if generated[s] {
			continue
		}
		generated[s] = true
		if _, err := bootstrap.Generate(s); err != nil {
			fail("the CRD accepts %s; Generate refuses its settings: %v", raw, err)
		}
	}
	failed()
	if accepted < 100 {
		t.Errorf("only %d of %d forms accepted by the CRD: the walk is not reaching the fields", accepted, len(forms))
	}
	t.Logf("%d forms, %d accepted by the CRD, %d distinct settings generated", len(forms), accepted, len(generated))
}

// TestAnnotationFormsRender: every value of every tracing annotation either resolves into
// settings that Generate renders, or is refused with *bootstrap.FieldError naming the
// annotation; never another error. The values are the probe strings of stringForms and,
// for the tags annotation, NAME=VALUE, NAME=literal:VALUE and NAME=header:VALUE over them.
func TestAnnotationFormsRender(t *testing.T) {
	defaults := bootstrap.Defaults("osm-system")
	resolves := func(key, v string) bool {
		_, err := bootstrap.Resolve(bootstrap.Input{Defaults: defaults, NamespaceName: "shop", PodName: "web", PodAnnotations: map[string]string{key: v}})
		return err == nil
	}
	generated := map[bootstrap.Settings]bool{}
	fail, failed := cappedErrors(t)
	for _, key := range bootstrap.KnownAnnotations {
		maxLen := int64(256)
		values := stringForms(apiextensionsv1.JSONSchemaProps{MaxLength: &maxLen}, func(v string) bool { return resolves(key, v) })
		if key == bootstrap.AnnotationTags {
			probes := values
			values = nil
			for _, v := range probes {
				values = append(values, "t="+v, "t=literal:"+v, "t=header:"+v, v+"=x")
			}
		}
		for _, v := range values {
			s, err := bootstrap.Resolve(bootstrap.Input{Defaults: defaults, NamespaceName: "shop", PodName: "web", PodAnnotations: map[string]string{key: v}})
			if err != nil {
				fes := bootstrap.FieldErrors(err)
				if len(fes) == 0 {
					fail("%s=%q: an error that is no *FieldError: %v", key, v, err)
				}
				for _, fe := range fes {
					if fe.Field != key || fe.Source != bootstrap.SourcePod {
						fail("%s=%q: the error names %s %s: %v", key, v, fe.Source, fe.Field, err)
					}
				}
				continue
			}
			s.Tracing.Enable = true
			if generated[s] {
				continue
			}
			generated[s] = true
			if _, err := bootstrap.Generate(s); err != nil {
				var fe *bootstrap.FieldError
				fail("%s=%q resolves; Generate refuses its settings (a FieldError: %t): %v", key, v, errors.As(err, &fe), err)
			}
		}
	}
	failed()
	t.Logf("%d distinct settings generated", len(generated))
}
