package bootstrap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// FuzzResolveAnnotations feeds arbitrary annotation values (and one arbitrary key) to
// Resolve, on the pod or the namespace. It must never panic; it either reports field errors,
// or returns settings that the generator turns into a bootstrap Envoy accepts.
func FuzzResolveAnnotations(f *testing.F) {
	f.Add("true", "jaeger.osm-system.svc.cluster.local", "9411", "/api/v2/spans", "12.5", "bookstore-v1", "addr", "x", false)
	f.Add("false", "10.0.0.1", "1", "/", "0", "a", "bootstrap-hash", "0123456789", true)
	f.Add("TRUE", "fd00::1", "65535", "/p?q=1", "100", "x-1", "", "", false)
	f.Add("yes", "bad_host!", "0", "api", "-1", "Bad", "service-name", "ok", true)
	f.Add("", "1.2.3.999", "65536", "/a b", "1e2", "", "auto-rebootstrap", "false", false)
	f.Add("true", "jaeger", "9411", "/", "1", "web", "propagation", "b3", false)
	f.Add("true", "jaeger", "9411", "/", "1", "web", "propagation", "w3c", true)
	f.Fuzz(func(t *testing.T, enable, address, port, endpoint, sampling, service, extraKey, extraValue string, onNamespace bool) {
		ann := map[string]string{
			bootstrap.AnnotationEnable:            enable,
			bootstrap.AnnotationAddress:           address,
			bootstrap.AnnotationPort:              port,
			bootstrap.AnnotationEndpoint:          endpoint,
			bootstrap.AnnotationSampling:          sampling,
			bootstrap.AnnotationServiceName:       service,
			bootstrap.AnnotationPrefix + extraKey: extraValue,
		}
		in := bootstrap.Input{Defaults: resolveDefaults, NamespaceName: "shop", PodName: "web-" + service}
		if onNamespace {
			in.NamespaceAnnotations = ann
		} else {
			in.PodAnnotations = ann
		}
		s, err := bootstrap.Resolve(in)
		if err != nil {
			fes := bootstrap.FieldErrors(err)
			if len(fes) == 0 {
				t.Fatalf("error without field errors: %v", err)
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(fes) {
				t.Fatalf("%d message lines for %d field errors: %v", n, len(fes), err)
			}
			for _, fe := range fes {
				if !strings.HasPrefix(fe.Field, bootstrap.AnnotationPrefix) || fe.Accepted == "" {
					t.Fatalf("field error without field or accepted form: %+v", fe)
				}
			}
			return
		}
		if s.Tracing.Port < 1 || s.Tracing.Port > 65535 || s.Tracing.Sampling < 0 || s.Tracing.Sampling > 100 ||
			!strings.HasPrefix(s.Tracing.Endpoint, "/") || s.Tracing.Address == "" || s.ServiceName == "" {
			t.Fatalf("Resolve accepted invalid settings: %+v", s)
		}
		if bootstrap.SanitizeServiceName(s.ServiceName) != s.ServiceName {
			t.Fatalf("service name %q is not a DNS-1123 label", s.ServiceName)
		}
		s.Tracing.Enable = true // check the collector fields even when the annotation turned them off
		g, err := bootstrap.Generate(s)
		if err != nil {
			t.Fatalf("Generate refused settings Resolve accepted: %+v: %v", s, err)
		}
		b, err := bootstrap.Parse(g.YAML)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if err := bootstrap.Validate(b); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	})
}

// FuzzMeshTracing feeds arbitrary MeshConfig values to MeshTracing: never a panic, and either
// errors or values in range.
func FuzzMeshTracing(f *testing.F) {
	f.Add("jaeger", int32(9411), "/api/v2/spans", 100.0)
	f.Add("", int32(0), "", -1.0)
	f.Fuzz(func(t *testing.T, address string, port int32, endpoint string, sampling float64) {
		spec := &v1alpha2.TracingSpec{Address: address, Port: &port, Endpoint: endpoint, Sampling: &sampling}
		got, err := bootstrap.MeshTracing(resolveDefaults, &v1alpha2.ObservabilitySpec{Tracing: *spec})
		if err != nil {
			if got != resolveDefaults {
				t.Fatalf("MeshTracing returned %+v with an error", got)
			}
			return
		}
		if got.Port != uint32(port) || got.Sampling != sampling || got.Sampling < 0 || got.Sampling > 100 {
			t.Fatalf("MeshTracing = %+v for port %d sampling %v", got, port, sampling)
		}
	})
}

// FuzzServerFirstPorts feeds arbitrary server-first annotations to Resolve: either field
// errors naming the annotation, or canonical ports that, with the defaults, hold every port
// the annotations list, without repeating a default, and that Generate accepts.
func FuzzServerFirstPorts(f *testing.F) {
	for _, v := range []string{"", " ", "21", "110, 143", "22,,25", "0", "65535,1", "3306-3308", "+22", "022"} {
		f.Add(v, "21")
	}
	f.Fuzz(func(t *testing.T, pod, namespace string) {
		in := bootstrap.Input{Defaults: resolveDefaults, NamespaceName: "shop", PodName: "web",
			PodAnnotations:       map[string]string{bootstrap.AnnotationServerFirstPorts: pod},
			NamespaceAnnotations: map[string]string{bootstrap.AnnotationServerFirstPorts: namespace}}
		s, err := bootstrap.Resolve(in)
		if err != nil {
			for _, fe := range bootstrap.FieldErrors(err) {
				if fe.Field != bootstrap.AnnotationServerFirstPorts || fe.Accepted == "" {
					t.Fatalf("field error %+v", fe)
				}
			}
			if len(bootstrap.FieldErrors(err)) == 0 {
				t.Fatalf("error without field errors: %v", err)
			}
			return
		}
		got := map[string]bool{}
		for _, p := range strings.Split(bootstrap.DefaultServerFirstPorts, ",") {
			got[p] = true
		}
		prev := 0
		for _, p := range strings.Split(s.ServerFirstPorts, ",") {
			if s.ServerFirstPorts == "" {
				break
			}
			if got[p] {
				t.Fatalf("ServerFirstPorts %q repeats the default %s", s.ServerFirstPorts, p)
			}
			n, err := strconv.Atoi(p)
			if err != nil || n <= prev || n > 65535 || strconv.Itoa(n) != p {
				t.Fatalf("ServerFirstPorts %q is not canonical", s.ServerFirstPorts)
			}
			prev = n
			got[p] = true
		}
		for _, list := range []string{pod, namespace} {
			for _, p := range strings.Split(list, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				n, _ := strconv.Atoi(p)
				if !got[strconv.Itoa(n)] {
					t.Fatalf("port %s of %q is not in %q", p, list, s.ServerFirstPorts)
				}
			}
		}
		if _, err := bootstrap.Generate(s); err != nil {
			t.Fatalf("Generate refused settings Resolve accepted: %v", err)
		}
	})
}
