package bootstrap_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

func resolvePtr[T any](v T) *T { return &v }

// resolveDefaults are the defaults of a control plane in osm-system.
var resolveDefaults = bootstrap.Defaults("osm-system")

// withTracing returns the defaults changed by f.
func resolveWith(f func(*bootstrap.Tracing)) bootstrap.Tracing {
	t := resolveDefaults
	f(&t)
	return t
}

func TestResolvePrecedence(t *testing.T) {
	mesh := &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{
		Enable:      resolvePtr(true),
		Address:     "collector.tracing.svc.cluster.local",
		Port:        resolvePtr[int32](9412),
		Endpoint:    "/mesh/spans",
		Sampling:    resolvePtr(50.0),
		Propagation: bootstrap.PropagationB3,
	}}
	tests := map[string]struct {
		in   bootstrap.Input
		want bootstrap.Settings
	}{
		"defaults apply when there is no MeshConfig and no annotation": {
			in:   bootstrap.Input{Defaults: resolveDefaults, PodName: "web"},
			want: bootstrap.Settings{Tracing: resolveDefaults, ServiceName: "web"},
		},
		"an empty MeshConfig keeps every default": {
			in:   bootstrap.Input{Defaults: resolveDefaults, Mesh: &v1alpha2.ObservabilitySpec{}, PodName: "web"},
			want: bootstrap.Settings{Tracing: resolveDefaults, ServiceName: "web"},
		},
		"MeshConfig fields override the defaults": {
			in: bootstrap.Input{Defaults: resolveDefaults, Mesh: mesh, PodName: "web"},
			want: bootstrap.Settings{ServiceName: "web", Tracing: bootstrap.Tracing{Protocol: bootstrap.ProtocolZipkin,
				Enable: true, Address: "collector.tracing.svc.cluster.local", Port: 9412, Endpoint: "/mesh/spans", Sampling: 50,
				Propagation: "b3",
			}},
		},
		"MeshConfig fields left unset keep the defaults": {
			in: bootstrap.Input{Defaults: resolveDefaults, Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Enable: resolvePtr(true), Port: resolvePtr[int32](9999)}}, PodName: "web"},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveWith(func(t *bootstrap.Tracing) {
				t.Enable, t.Port = true, 9999
			})},
		},
		"MeshConfig can turn tracing off and sampling to zero": {
			in: bootstrap.Input{Defaults: resolveWith(func(t *bootstrap.Tracing) { t.Enable = true }),
				Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Enable: resolvePtr(false), Sampling: resolvePtr(0.0)}}, PodName: "web"},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveWith(func(t *bootstrap.Tracing) { t.Sampling = 0 })},
		},
		"namespace annotations override the MeshConfig": {
			in: bootstrap.Input{Defaults: resolveDefaults, Mesh: mesh, PodName: "web", NamespaceName: "shop",
				NamespaceAnnotations: map[string]string{
					bootstrap.AnnotationEnable:      "false",
					bootstrap.AnnotationAddress:     "10.0.0.7",
					bootstrap.AnnotationPort:        "9411",
					bootstrap.AnnotationEndpoint:    "/ns/spans",
					bootstrap.AnnotationSampling:    "12.5",
					bootstrap.AnnotationPropagation: "b3+w3c",
				}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: bootstrap.Tracing{Protocol: bootstrap.ProtocolZipkin,
				Enable: false, Address: "10.0.0.7", Port: 9411, Endpoint: "/ns/spans", Sampling: 12.5, Propagation: "b3+w3c",
			}},
		},
		"pod annotations override the namespace's": {
			in: bootstrap.Input{Defaults: resolveDefaults, Mesh: mesh, PodName: "web", NamespaceName: "shop",
				NamespaceAnnotations: map[string]string{
					bootstrap.AnnotationEnable:      "false",
					bootstrap.AnnotationAddress:     "10.0.0.7",
					bootstrap.AnnotationServiceName: "shop-wide",
				},
				PodAnnotations: map[string]string{
					bootstrap.AnnotationEnable:      "true",
					bootstrap.AnnotationAddress:     "fd00::7",
					bootstrap.AnnotationPort:        "1",
					bootstrap.AnnotationEndpoint:    "/pod/spans?tenant=a",
					bootstrap.AnnotationSampling:    "100",
					bootstrap.AnnotationServiceName: "checkout",
				}},
			want: bootstrap.Settings{ServiceName: "checkout", Tracing: bootstrap.Tracing{Protocol: bootstrap.ProtocolZipkin,
				Enable: true, Address: "fd00::7", Port: 1, Endpoint: "/pod/spans?tenant=a", Sampling: 100, Propagation: "b3",
			}},
		},
		"a pod annotation overrides only its own field": {
			in: bootstrap.Input{Defaults: resolveDefaults, Mesh: mesh, PodName: "web",
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationPort: "1234"},
				PodAnnotations:       map[string]string{bootstrap.AnnotationSampling: "0.01"}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: bootstrap.Tracing{Protocol: bootstrap.ProtocolZipkin,
				Enable: true, Address: "collector.tracing.svc.cluster.local", Port: 1234, Endpoint: "/mesh/spans", Sampling: 0.01,
				Propagation: "b3",
			}},
		},
		"a pod annotation sets the propagation back to b3+w3c": {
			in: bootstrap.Input{Defaults: resolveDefaults, Mesh: mesh, PodName: "web",
				PodAnnotations: map[string]string{bootstrap.AnnotationPropagation: "b3+w3c"}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: bootstrap.Tracing{Protocol: bootstrap.ProtocolZipkin,
				Enable: true, Address: "collector.tracing.svc.cluster.local", Port: 9412, Endpoint: "/mesh/spans", Sampling: 50,
				Propagation: "b3+w3c",
			}},
		},
		"enable is read in any case": {
			in:   bootstrap.Input{Defaults: resolveDefaults, PodName: "web", PodAnnotations: map[string]string{bootstrap.AnnotationEnable: "True"}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveWith(func(t *bootstrap.Tracing) { t.Enable = true })},
		},
		"port 65535 and sampling 0 are in range": {
			in: bootstrap.Input{Defaults: resolveDefaults, PodName: "web", PodAnnotations: map[string]string{
				bootstrap.AnnotationPort: "65535", bootstrap.AnnotationSampling: "0"}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveWith(func(t *bootstrap.Tracing) { t.Port, t.Sampling = 65535, 0 })},
		},
		"a namespace-wide service name names every pod": {
			in: bootstrap.Input{Defaults: resolveDefaults, PodName: "web", Owner: bootstrap.Workload{Kind: "Deployment", Name: "web"},
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationServiceName: "shop"}},
			want: bootstrap.Settings{ServiceName: "shop", Tracing: resolveDefaults, Workload: bootstrap.Workload{Kind: "Deployment", Name: "web"}}, // the workload tag still names it
		},
		"the annotations the project writes itself are not overrides and not errors": {
			in: bootstrap.Input{Defaults: resolveDefaults, PodName: "web", PodAnnotations: map[string]string{
				bootstrap.BootstrapHashKey:               "0123456789",
				bootstrap.AnnotationAutoRebootstrap:      "false",
				"openservicemesh.io/sidecar-injection":   "enabled",
				"example.com/tracing.openservicemesh.io": "x",
			}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveDefaults},
		},
		"server-first ports of the namespace and the pod add up, defaults left out": {
			in: bootstrap.Input{Defaults: resolveDefaults, PodName: "web",
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationServerFirstPorts: "3306, 23"},
				PodAnnotations:       map[string]string{bootstrap.AnnotationServerFirstPorts: "110,23,65535,1"}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveDefaults, ServerFirstPorts: "1,23,65535"},
		},
		"server-first annotations of default ports or of nothing add nothing": {
			in: bootstrap.Input{Defaults: resolveDefaults, PodName: "web",
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationServerFirstPorts: "25,22"},
				PodAnnotations:       map[string]string{bootstrap.AnnotationServerFirstPorts: " "}},
			want: bootstrap.Settings{ServiceName: "web", Tracing: resolveDefaults},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := bootstrap.Resolve(tc.in)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveRefusesMalformedValues(t *testing.T) {
	const (
		port     = "must be an integer from 1 to 65535"
		sampling = "must be a number from 0 to 100"
		endpoint = `must be an HTTP path beginning with "/"`
		address  = "must be a DNS name"
		enable   = `must be "true" or "false"`
		service  = "must be a DNS-1123 label"
		prop     = `must be "b3" (B3 headers only) or "b3+w3c"`
		ports    = "must be a comma-separated list of ports, each an integer from 1 to 65535"
	)
	tests := map[string]struct {
		key, value, accepted string
	}{
		"port 0 is out of range":                {bootstrap.AnnotationPort, "0", port},
		"port 65536 is out of range":            {bootstrap.AnnotationPort, "65536", port},
		"port 99999 is out of range":            {bootstrap.AnnotationPort, "99999", port},
		"a port that is not a number":           {bootstrap.AnnotationPort, "abc", port},
		"a negative port":                       {bootstrap.AnnotationPort, "-1", port},
		"a port with a sign":                    {bootstrap.AnnotationPort, "+80", port},
		"a port with spaces":                    {bootstrap.AnnotationPort, " 80", port},
		"an empty port":                         {bootstrap.AnnotationPort, "", port},
		"sampling below 0":                      {bootstrap.AnnotationSampling, "-1", sampling},
		"sampling above 100":                    {bootstrap.AnnotationSampling, "101", sampling},
		"sampling just above 100":               {bootstrap.AnnotationSampling, "100.0001", sampling},
		"sampling that is not a number":         {bootstrap.AnnotationSampling, "x", sampling},
		"sampling with a percent sign":          {bootstrap.AnnotationSampling, "50%", sampling},
		"sampling NaN":                          {bootstrap.AnnotationSampling, "NaN", sampling},
		"sampling in exponent form":             {bootstrap.AnnotationSampling, "1e2", sampling},
		"sampling with two dots":                {bootstrap.AnnotationSampling, "1.2.3", sampling},
		"sampling of a lone dot":                {bootstrap.AnnotationSampling, ".", sampling},
		"an endpoint without a leading slash":   {bootstrap.AnnotationEndpoint, "api", endpoint},
		"an endpoint with a space":              {bootstrap.AnnotationEndpoint, "/api/v2 spans", endpoint},
		"an endpoint with a fragment":           {bootstrap.AnnotationEndpoint, "/api#x", endpoint},
		"an endpoint with non-ASCII":            {bootstrap.AnnotationEndpoint, "/späns", endpoint},
		"an empty endpoint":                     {bootstrap.AnnotationEndpoint, "", endpoint},
		"an endpoint that is too long":          {bootstrap.AnnotationEndpoint, "/" + strings.Repeat("a", 1024), endpoint},
		"an address with bad characters":        {bootstrap.AnnotationAddress, "bad_host!", address},
		"an address in upper case":              {bootstrap.AnnotationAddress, "Jaeger.osm-system", address},
		"an address with a scheme":              {bootstrap.AnnotationAddress, "http://jaeger", address},
		"an address with a port":                {bootstrap.AnnotationAddress, "jaeger:9411", address},
		"an address that is a bad IPv4 address": {bootstrap.AnnotationAddress, "10.0.0.256", address},
		"an IPv6 address in brackets":           {bootstrap.AnnotationAddress, "[fd00::1]", address},
		"an IPv6 address with a zone":           {bootstrap.AnnotationAddress, "fe80::1%eth0", address},
		"an IPv4-mapped IPv6 address":           {bootstrap.AnnotationAddress, "::ffff:10.0.0.7", address},
		"an address with an empty label":        {bootstrap.AnnotationAddress, "jaeger..svc", address},
		"an address with a trailing dot":        {bootstrap.AnnotationAddress, "jaeger.svc.", address},
		"an empty address":                      {bootstrap.AnnotationAddress, "", address},
		"an address label longer than 63 bytes": {bootstrap.AnnotationAddress, strings.Repeat("a", 64) + ".svc", address},
		"enable yes":                            {bootstrap.AnnotationEnable, "yes", enable},
		"enable 1":                              {bootstrap.AnnotationEnable, "1", enable},
		"an empty enable":                       {bootstrap.AnnotationEnable, "", enable},
		"a service name with upper case":        {bootstrap.AnnotationServiceName, "BookStore", service},
		"a service name with a dot":             {bootstrap.AnnotationServiceName, "book.store", service},
		"a service name ending with a dash":     {bootstrap.AnnotationServiceName, "bookstore-", service},
		"a service name longer than 63 bytes":   {bootstrap.AnnotationServiceName, strings.Repeat("a", 64), service},
		"an empty service name":                 {bootstrap.AnnotationServiceName, "", service},
		"propagation w3c alone":                 {bootstrap.AnnotationPropagation, "w3c", prop},
		"propagation in upper case":             {bootstrap.AnnotationPropagation, "B3", prop},
		"propagation as a list":                 {bootstrap.AnnotationPropagation, "b3,w3c", prop},
		"propagation with spaces":               {bootstrap.AnnotationPropagation, "b3 + w3c", prop},
		"an empty propagation":                  {bootstrap.AnnotationPropagation, "", prop},
		"server-first port 0":                   {bootstrap.AnnotationServerFirstPorts, "22,0", ports},
		"server-first port 65536":               {bootstrap.AnnotationServerFirstPorts, "65536", ports},
		"server-first port by name":             {bootstrap.AnnotationServerFirstPorts, "ssh", ports},
		"server-first ports with an empty item": {bootstrap.AnnotationServerFirstPorts, "22,,25", ports},
		"server-first ports with semicolons":    {bootstrap.AnnotationServerFirstPorts, "22;25", ports},
		"a server-first port range":             {bootstrap.AnnotationServerFirstPorts, "3306-3308", ports},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, layer := range []struct {
				source string
				in     bootstrap.Input
			}{
				{"pod annotation", bootstrap.Input{PodAnnotations: map[string]string{tc.key: tc.value}}},
				{`namespace "shop" annotation`, bootstrap.Input{NamespaceAnnotations: map[string]string{tc.key: tc.value}}},
			} {
				layer.in.Defaults, layer.in.NamespaceName, layer.in.PodName = resolveDefaults, "shop", "web"
				got, err := bootstrap.Resolve(layer.in)
				if err == nil {
					t.Fatalf("%s: Resolve accepted %q=%q: %+v", layer.source, tc.key, tc.value, got)
				}
				msg := err.Error()
				for _, want := range []string{layer.source + " " + tc.key + ": ", "invalid value " + quoteForTest(tc.value), tc.accepted} {
					if !strings.Contains(msg, want) {
						t.Errorf("%s: error %q does not contain %q", layer.source, msg, want)
					}
				}
				fes := bootstrap.FieldErrors(err)
				if len(fes) != 1 || fes[0].Field != tc.key || fes[0].Value != tc.value || fes[0].Source != layer.source {
					t.Errorf("%s: FieldErrors = %+v", layer.source, fes)
				}
				var fe *bootstrap.FieldError
				if !errors.As(err, &fe) {
					t.Errorf("%s: errors.As(*FieldError) failed", layer.source)
				}
			}
		})
	}
}

// quoteForTest quotes a value the way messages do (the first 128 bytes of a long one).
func quoteForTest(v string) string {
	if len(v) > 128 {
		v = v[:128]
	}
	return strconv.Quote(v)
}

func TestResolveErrorMessage(t *testing.T) {
	_, err := bootstrap.Resolve(bootstrap.Input{Defaults: resolveDefaults, PodName: "web",
		PodAnnotations: map[string]string{bootstrap.AnnotationPort: "99999"}})
	want := `pod annotation tracing.openservicemesh.io/port: invalid value "99999": must be an integer from 1 to 65535`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestResolveReportsEveryBadValueInOrder(t *testing.T) {
	in := bootstrap.Input{
		Defaults:      resolveDefaults,
		NamespaceName: "shop",
		PodName:       "web",
		Mesh:          &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Port: resolvePtr[int32](0), Address: "Bad Host"}},
		NamespaceAnnotations: map[string]string{
			bootstrap.AnnotationSampling:         "x",
			bootstrap.AnnotationServerFirstPorts: "x",
			bootstrap.AnnotationPrefix + "zzz":   "1",
			bootstrap.AnnotationPrefix + "addr":  "jaeger",
		},
		PodAnnotations: map[string]string{
			bootstrap.AnnotationServiceName: "Bad",
			bootstrap.AnnotationEnable:      "yes",
			bootstrap.AnnotationPort:        "abc",
			bootstrap.AnnotationEndpoint:    "api",
			bootstrap.AnnotationAddress:     "bad_host!",
			bootstrap.AnnotationSampling:    "101",
			bootstrap.AnnotationPropagation: "tracecontext",
		},
	}
	want := []string{
		"MeshConfig spec.observability.tracing.address",
		"MeshConfig spec.observability.tracing.port",
		`namespace "shop" annotation tracing.openservicemesh.io/sampling`,
		`namespace "shop" annotation openservicemesh.io/server-first-ports`,
		`namespace "shop" annotation tracing.openservicemesh.io/addr`,
		`namespace "shop" annotation tracing.openservicemesh.io/zzz`,
		"pod annotation tracing.openservicemesh.io/enable",
		"pod annotation tracing.openservicemesh.io/address",
		"pod annotation tracing.openservicemesh.io/port",
		"pod annotation tracing.openservicemesh.io/endpoint",
		"pod annotation tracing.openservicemesh.io/sampling",
		"pod annotation tracing.openservicemesh.io/service-name",
		"pod annotation tracing.openservicemesh.io/propagation",
	}
	for range 20 { // map order must not leak into the message
		_, err := bootstrap.Resolve(in)
		if err == nil {
			t.Fatal("Resolve accepted bad values")
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(want) {
			t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, want[i]+": ") {
				t.Fatalf("error %d = %q, want prefix %q\nall:\n%v", i, l, want[i], err)
			}
		}
		if n := len(bootstrap.FieldErrors(err)); n != len(want) {
			t.Fatalf("FieldErrors: %d, want %d", n, len(want))
		}
	}
}

func TestResolveUnknownAnnotation(t *testing.T) {
	tests := map[string]struct {
		key        string
		suggestion string
	}{
		"an abbreviation of address suggests address": {bootstrap.AnnotationPrefix + "addr", bootstrap.AnnotationAddress},
		"a plural of port suggests port":              {bootstrap.AnnotationPrefix + "ports", bootstrap.AnnotationPort},
		"serviceName suggests service-name":           {bootstrap.AnnotationPrefix + "servicename", bootstrap.AnnotationServiceName},
		"an unrelated key suggests nothing":           {bootstrap.AnnotationPrefix + "collector-protocol", ""},
		"the bare prefix is unknown":                  {bootstrap.AnnotationPrefix, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := bootstrap.Resolve(bootstrap.Input{Defaults: resolveDefaults, PodName: "web",
				PodAnnotations: map[string]string{tc.key: "x"}})
			if err == nil {
				t.Fatal("Resolve accepted an unknown tracing annotation")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pod annotation "+tc.key+": unknown tracing annotation") {
				t.Errorf("message %q does not name the annotation", msg)
			}
			for _, known := range bootstrap.KnownAnnotations {
				if !strings.Contains(msg, known) {
					t.Errorf("message %q does not list %s", msg, known)
				}
			}
			hasSuggestion := strings.Contains(msg, "did you mean")
			if tc.suggestion == "" && hasSuggestion {
				t.Errorf("message %q suggests something", msg)
			}
			if tc.suggestion != "" && !strings.Contains(msg, "did you mean "+tc.suggestion+"?") {
				t.Errorf("message %q does not suggest %s", msg, tc.suggestion)
			}
			fes := bootstrap.FieldErrors(err)
			if len(fes) != 1 || !fes[0].Unknown {
				t.Errorf("FieldErrors = %+v", fes)
			}
		})
	}
}

func TestResolveQuotesLongValuesShort(t *testing.T) {
	long := "/" + strings.Repeat("ä", 2000)
	_, err := bootstrap.Resolve(bootstrap.Input{Defaults: resolveDefaults, PodName: "web",
		PodAnnotations: map[string]string{bootstrap.AnnotationEndpoint: long}})
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(err.Error()); n > 600 {
		t.Errorf("message is %d bytes long: %s", n, err)
	}
	if !strings.Contains(err.Error(), "(4001 bytes)") {
		t.Errorf("message does not give the length: %s", err)
	}
}

func TestMeshTracing(t *testing.T) {
	tests := map[string]struct {
		spec    *v1alpha2.TracingSpec
		want    bootstrap.Tracing
		wantErr []string
	}{
		"no MeshConfig gives the defaults": {want: resolveDefaults},
		"every field set": {
			spec: &v1alpha2.TracingSpec{Enable: resolvePtr(true), Address: "::1", Port: resolvePtr[int32](65535), Endpoint: "/x", Sampling: resolvePtr(99.5), Propagation: "b3"},
			want: bootstrap.Tracing{Enable: true, Protocol: bootstrap.ProtocolZipkin, Address: "::1", Port: 65535, Endpoint: "/x", Sampling: 99.5, Propagation: "b3"},
		},
		"every field malformed": {
			spec: &v1alpha2.TracingSpec{Address: "999.1.1.1", Port: resolvePtr[int32](-3), Endpoint: "spans", Sampling: resolvePtr(100.5), Propagation: "B3"},
			want: resolveDefaults,
			wantErr: []string{
				`MeshConfig spec.observability.tracing.address: invalid value "999.1.1.1": must be a DNS name`,
				`MeshConfig spec.observability.tracing.port: invalid value "-3": must be an integer from 1 to 65535`,
				`MeshConfig spec.observability.tracing.endpoint: invalid value "spans": must be an HTTP path beginning with "/"`,
				`MeshConfig spec.observability.tracing.sampling: invalid value "100.5": must be a number from 0 to 100`,
				`MeshConfig spec.observability.tracing.propagation: invalid value "B3": must be "b3" (B3 headers only) or "b3+w3c"`,
			},
		},
		"port 0": {
			spec:    &v1alpha2.TracingSpec{Port: resolvePtr[int32](0)},
			want:    resolveDefaults,
			wantErr: []string{`MeshConfig spec.observability.tracing.port: invalid value "0"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := bootstrap.MeshTracing(resolveDefaults, observabilityOf(tc.spec))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MeshTracing (-want +got):\n%s", diff)
			}
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("MeshTracing: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("MeshTracing accepted a bad spec")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.wantErr) {
				t.Fatalf("errors:\n%v\nwant %d", err, len(tc.wantErr))
			}
			for i, w := range tc.wantErr {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestResolveReportsABadMeshConfig(t *testing.T) {
	_, err := bootstrap.Resolve(bootstrap.Input{Defaults: resolveDefaults, PodName: "web",
		Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Sampling: resolvePtr(-1.0)}}})
	if err == nil || !strings.HasPrefix(err.Error(), `MeshConfig spec.observability.tracing.sampling: invalid value "-1"`) {
		t.Fatalf("error = %v", err)
	}
}

func TestResolveProtocol(t *testing.T) {
	otel := bootstrap.ProtocolOpenTelemetry
	tests := map[string]struct {
		in           bootstrap.Input
		wantPort     uint32
		wantEndpoint string
		wantErr      string
	}{
		"zipkin by default, on 9411": {
			in: bootstrap.Input{}, wantPort: 9411, wantEndpoint: bootstrap.DefaultEndpoint,
		},
		"opentelemetry from the MeshConfig takes 4317 when no layer sets the port": {
			in: bootstrap.Input{Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: otel}}}, wantPort: 4317,
		},
		"opentelemetry from a pod annotation takes 4317 too": {
			in: bootstrap.Input{PodAnnotations: map[string]string{bootstrap.AnnotationProtocol: otel}}, wantPort: 4317,
		},
		"a port set by any layer wins over the protocol's default": {
			in: bootstrap.Input{
				Mesh:                 &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Port: resolvePtr[int32](9411)}},
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationProtocol: otel},
			},
			wantPort: 9411,
		},
		"the default endpoint is accepted with opentelemetry and dropped": {
			in: bootstrap.Input{Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: otel, Endpoint: bootstrap.DefaultEndpoint}}}, wantPort: 4317,
		},
		"a pod annotation back to zipkin keeps the MeshConfig's endpoint": {
			in: bootstrap.Input{
				Mesh:           &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: otel}},
				PodAnnotations: map[string]string{bootstrap.AnnotationProtocol: "zipkin", bootstrap.AnnotationEndpoint: "/zipkin"},
			},
			wantPort: 9411, wantEndpoint: "/zipkin",
		},
		"an endpoint with opentelemetry is refused where it was set": {
			in: bootstrap.Input{
				Mesh:                 &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Endpoint: "/zipkin"}},
				NamespaceName:        "shop",
				NamespaceAnnotations: map[string]string{bootstrap.AnnotationEndpoint: "/custom"},
				PodAnnotations:       map[string]string{bootstrap.AnnotationProtocol: otel},
			},
			wantErr: `namespace "shop" annotation tracing.openservicemesh.io/endpoint: invalid value "/custom": applies to protocol "zipkin" only; with protocol "opentelemetry" (OTLP over gRPC, no HTTP path to choose) leave it unset or /api/v2/spans`,
		},
		"an unknown protocol names the annotation and the accepted values": {
			in:      bootstrap.Input{PodAnnotations: map[string]string{bootstrap.AnnotationProtocol: "otlp"}},
			wantErr: `pod annotation tracing.openservicemesh.io/protocol: invalid value "otlp": must be "zipkin" (Zipkin v2 JSON over HTTP, default port 9411) or "opentelemetry" (OTLP over gRPC, default port 4317)`,
		},
		"an unknown protocol in the MeshConfig names the field": {
			in:      bootstrap.Input{Mesh: &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: "OpenTelemetry"}}},
			wantErr: `MeshConfig spec.observability.tracing.protocol: invalid value "OpenTelemetry"`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.in.Defaults = resolveDefaults
			tt.in.PodName = "web"
			s, err := bootstrap.Resolve(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Tracing.Port != tt.wantPort || s.Tracing.Endpoint != tt.wantEndpoint {
				t.Errorf("port %d, endpoint %q; want %d, %q", s.Tracing.Port, s.Tracing.Endpoint, tt.wantPort, tt.wantEndpoint)
			}
			if _, err := bootstrap.Generate(s); err != nil {
				t.Errorf("Generate: %v", err)
			}
		})
	}
	// MeshTracing, which the controllers use, applies the same rules.
	if _, err := bootstrap.MeshTracing(resolveDefaults, &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: otel, Endpoint: "/x"}}); err == nil || !strings.Contains(err.Error(), "spec.observability.tracing.endpoint") {
		t.Errorf("MeshTracing accepts an endpoint with opentelemetry: %v", err)
	}
	if tr, err := bootstrap.MeshTracing(resolveDefaults, &v1alpha2.ObservabilitySpec{Tracing: v1alpha2.TracingSpec{Protocol: otel}}); err != nil || tr.Port != bootstrap.DefaultOTLPPort {
		t.Errorf("MeshTracing with opentelemetry: port %d, %v; want %d", tr.Port, err, bootstrap.DefaultOTLPPort)
	}
}

// observabilityOf wraps a tracing spec as the MeshConfig's spec.observability (nil stays nil).
func observabilityOf(t *v1alpha2.TracingSpec) *v1alpha2.ObservabilitySpec {
	if t == nil {
		return nil
	}
	return &v1alpha2.ObservabilitySpec{Tracing: *t}
}
