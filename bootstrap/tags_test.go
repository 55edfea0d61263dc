package bootstrap

import (
	"errors"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func TestResolveTags(t *testing.T) {
	lit := func(v string) *string { return &v }
	mesh := &v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "team", Literal: lit("platform")}, {Tag: "tenant", Header: lit("X-Tenant-Id")}}}
	tests := []struct {
		name     string
		mesh     *v1alpha2.TracingSpec
		ns, pod  string
		want     string
		errParts []string
	}{
		{name: "none", want: ""},
		{name: "MeshConfig: a literal and a header (lower-cased)", mesh: mesh, want: "team=literal:platform\ntenant=header:x-tenant-id"},
		{name: "annotation order and spaces do not matter", pod: " tenant=header:x-tenant-id , team=payments", want: "team=literal:payments\ntenant=header:x-tenant-id"},
		{name: "pod overrides namespace overrides MeshConfig, by name", mesh: mesh, ns: "team=payments,zone=a", pod: "zone=literal:b",
			want: "team=literal:payments\ntenant=header:x-tenant-id\nzone=literal:b"},
		{name: "literal: lets a value begin with header:", pod: "odd=literal:header:x", want: "odd=literal:header:x"},
		{name: "an empty literal (Envoy's CustomTag.Literal needs a character)", pod: "empty=", errParts: []string{"pod annotation " + AnnotationTags, `"empty="`, "VALUE of 1 to 256"}},
		{name: "an empty literal: after literal:", ns: "empty=literal:", errParts: []string{`namespace "bookbuyer" annotation ` + AnnotationTags, `"empty=literal:"`}},
		{name: "a literal may begin with a space", pod: "space=literal: x", want: "space=literal: x"},
		{name: "a header is lower-cased in ASCII", pod: "t=header:X-TENANT", want: "t=header:x-tenant"},
		{name: "KELVIN SIGN is no K: a header is ASCII", pod: "t=header:x-K", errParts: []string{AnnotationTags, "ASCII letters"}},
		{name: "MeshConfig: an empty literal", mesh: &v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "team", Literal: lit("")}}},
			errParts: []string{"MeshConfig", "spec.observability.tracing.tags", `"team=literal:"`, "VALUE of 1 to 256"}},
		{name: "MeshConfig: KELVIN SIGN in a header", mesh: &v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Header: lit("K")}}},
			errParts: []string{"spec.observability.tracing.tags", "ASCII letters"}},
		{name: "a built-in tag", pod: "k8s.pod.name=x", errParts: []string{"pod annotation " + AnnotationTags, `"k8s.pod.name=x"`, "not a built-in k8s.* tag"}},
		{name: "the workload's tag", ns: "k8s.deployment.name=x", errParts: []string{`namespace "bookbuyer" annotation ` + AnnotationTags, "NAME=header:HEADER"}},
		{name: "no =", pod: "team", errParts: []string{AnnotationTags, `"team"`, "such as team=payments,tenant=header:x-tenant-id"}},
		{name: "a name twice", pod: "a=1,a=2", errParts: []string{"each NAME once"}},
		{name: "a bad header", pod: "t=header:x tenant", errParts: []string{`"t=header:x tenant"`, "HEADER an HTTP header name"}},
		{name: "an empty header", pod: "t=header:", errParts: []string{AnnotationTags}},
		{name: "a bad name", pod: "te am=x", errParts: []string{AnnotationTags}},
		{name: "empty", pod: " ", errParts: []string{AnnotationTags}},
		{name: "too many", pod: manyTags(33), errParts: []string{"at most 32 tags"}},
		{name: "MeshConfig: both literal and header", mesh: &v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Literal: lit("a"), Header: lit("b")}}},
			errParts: []string{"MeshConfig", "spec.observability.tracing.tags", `"t=?"`, "{tag: NAME, literal: VALUE} or {tag: NAME, header: HEADER}"}},
		{name: "MeshConfig: a literal with a comma", mesh: &v1alpha2.TracingSpec{Tags: []v1alpha2.TracingTag{{Tag: "t", Literal: lit("a,b")}}},
			errParts: []string{"spec.observability.tracing.tags", `"t=literal:a,b"`, "without ','"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Defaults: Defaults(""), Mesh: observability(tt.mesh), NamespaceName: "bookbuyer", PodName: "p"}
			if tt.ns != "" {
				in.NamespaceAnnotations = map[string]string{AnnotationTags: tt.ns}
			}
			if tt.pod != "" {
				in.PodAnnotations = map[string]string{AnnotationTags: tt.pod}
			}
			s, err := Resolve(in)
			if tt.errParts == nil {
				if err != nil || s.Tracing.Tags != tt.want {
					t.Fatalf("tags %q, %v; want %q", s.Tracing.Tags, err, tt.want)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v; want a *FieldError", err)
			}
			for _, p := range tt.errParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q; want it to contain %q", err, p)
				}
			}
		})
	}
}

func manyTags(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "t" + formatInt(int64(i)) + "=x"
	}
	return strings.Join(parts, ",")
}

func TestResolveMaxPathTagLength(t *testing.T) {
	for _, tc := range []struct {
		n    int32
		want uint32
		ok   bool
	}{{1, 1, true}, {1024, 1024, true}, {65536, 65536, true}, {0, 0, false}, {65537, 0, false}} {
		n := tc.n
		s, err := Resolve(Input{Defaults: Defaults(""), Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{MaxPathTagLength: &n}}, PodName: "p"})
		if tc.ok != (err == nil) || s.Tracing.MaxPathTagLength != tc.want {
			t.Errorf("maxPathTagLength %d: %d, %v; want %d (ok %v)", n, s.Tracing.MaxPathTagLength, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "spec.observability.tracing.maxPathTagLength") || err != nil && !strings.Contains(err.Error(), "from 1 to 65536") {
			t.Errorf("error %q does not name the field and the accepted form", err)
		}
	}
}

// observability wraps a tracing spec as the MeshConfig's spec.observability (nil stays nil).
func observability(t *v1alpha2.TracingSpec) *v1alpha2.ObservabilitySpec {
	if t == nil {
		return nil
	}
	return &v1alpha2.ObservabilitySpec{Tracing: *t}
}
