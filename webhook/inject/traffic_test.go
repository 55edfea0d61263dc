package inject_test

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

func prefixes(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestResolveTraffic(t *testing.T) {
	mesh := inject.ProxyConfig{
		OutboundPortExclusions: []uint16{3306},
		OutboundIPExclusions:   prefixes(t, "169.254.169.254/32"),
	}
	tests := map[string]struct {
		nsAnn, podAnn map[string]string
		probes        func(*corev1.Container)
		want          inject.Traffic
	}{
		"the mesh-wide lists and the default concurrency": {
			want: inject.Traffic{OutboundPortExclusions: []uint16{3306}, OutboundIPExclusions: prefixes(t, "169.254.169.254/32"), Concurrency: 2},
		},
		"namespace and pod lists add to the mesh's, sorted and without repeats": {
			nsAnn: map[string]string{inject.AnnotationOutboundPortExclusions: "6379, 3306", inject.AnnotationInboundPortExclusions: "9090"},
			podAnn: map[string]string{
				inject.AnnotationOutboundPortExclusions: "25",
				inject.AnnotationOutboundIPExclusions:   "10.1.2.3/8,fd00::/8",
				inject.AnnotationOutboundIPInclusions:   "10.96.0.0/12",
			},
			want: inject.Traffic{
				OutboundPortExclusions: []uint16{25, 3306, 6379},
				InboundPortExclusions:  []uint16{9090},
				OutboundIPExclusions:   prefixes(t, "10.0.0.0/8", "169.254.169.254/32", "fd00::/8"),
				OutboundIPInclusions:   prefixes(t, "10.96.0.0/12"),
				Concurrency:            2,
			},
		},
		"the pod's concurrency wins over the namespace's": {
			nsAnn:  map[string]string{inject.AnnotationProxyConcurrency: "8"},
			podAnn: map[string]string{inject.AnnotationProxyConcurrency: "1"},
			want:   inject.Traffic{OutboundPortExclusions: []uint16{3306}, OutboundIPExclusions: prefixes(t, "169.254.169.254/32"), Concurrency: 1},
		},
		"tcpSocket probe ports, by number and by name, leave the inbound capture": {
			probes: func(c *corev1.Container) {
				c.Ports = []corev1.ContainerPort{{Name: "mysql", ContainerPort: 3306}}
				c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("mysql")}}}
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(33060)}}}
				c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}}
			},
			want: inject.Traffic{
				OutboundPortExclusions: []uint16{3306}, InboundPortExclusions: []uint16{3306, 33060},
				OutboundIPExclusions: prefixes(t, "169.254.169.254/32"), Concurrency: 2,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := appPod("shop", func(p *corev1.Pod) { p.Annotations = tc.podAnn })
			if tc.probes != nil {
				tc.probes(&pod.Spec.Containers[0])
			}
			got, err := inject.ResolveTraffic(pod, inject.Namespace{Name: "shop", Annotations: tc.nsAnn}, mesh)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ResolveTraffic (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveTrafficRefusesBadValues(t *testing.T) {
	tests := map[string]struct {
		key, value, source string
		onNamespace        bool
		accepted           string
	}{
		"a port out of range":           {key: inject.AnnotationOutboundPortExclusions, value: "80,70000", accepted: "1 to 65535"},
		"port zero":                     {key: inject.AnnotationInboundPortExclusions, value: "0", accepted: "1 to 65535"},
		"an empty item":                 {key: inject.AnnotationOutboundPortExclusions, value: "80,,81", accepted: "comma-separated list of ports"},
		"a service name for a port":     {key: inject.AnnotationInboundPortExclusions, value: "http", accepted: "comma-separated list of ports"},
		"an address without a prefix":   {key: inject.AnnotationOutboundIPExclusions, value: "10.0.0.1", accepted: "list of CIDRs"},
		"a bad IPv6 range":              {key: inject.AnnotationOutboundIPInclusions, value: "fd00::/129", accepted: "list of CIDRs"},
		"an IPv4-mapped range":          {key: inject.AnnotationOutboundIPExclusions, value: "::ffff:10.0.0.0/104", accepted: "list of CIDRs"},
		"concurrency zero":              {key: inject.AnnotationProxyConcurrency, value: "0", accepted: "1 to 64"},
		"concurrency too high":          {key: inject.AnnotationProxyConcurrency, value: "65", accepted: "1 to 64"},
		"a namespace's bad port list":   {key: inject.AnnotationOutboundPortExclusions, value: "-1", onNamespace: true, accepted: "1 to 65535"},
		"a namespace's bad CIDR":        {key: inject.AnnotationOutboundIPExclusions, value: "10.0.0.0/33", onNamespace: true, accepted: "CIDRs"},
		"a namespace's bad concurrency": {key: inject.AnnotationProxyConcurrency, value: "two", onNamespace: true, accepted: "1 to 64"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ann := map[string]string{tc.key: tc.value}
			pod, ns := appPod("shop"), inject.Namespace{Name: "shop", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}
			source := bootstrap.SourcePod
			if tc.onNamespace {
				ns.Annotations, source = ann, bootstrap.NamespaceSource("shop")
			} else {
				pod.Annotations = ann
			}
			// Through Mutate, as the webhook and osm inject call it.
			_, err := inject.Mutate(pod, ns, inject.Env{})
			fes := bootstrap.FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("Mutate: %v; want one field error", err)
			}
			fe := fes[0]
			if fe.Source != source || fe.Field != tc.key || fe.Value != tc.value || !strings.Contains(fe.Accepted, tc.accepted) {
				t.Errorf("error %+v; want source %q, field %q, value %q, accepted containing %q", fe, source, tc.key, tc.value, tc.accepted)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.key) || !strings.Contains(msg, tc.value) {
				t.Errorf("message %q names neither the annotation nor the value", msg)
			}
		})
	}
}

func TestMutateReportsTracingAndTrafficErrorsTogether(t *testing.T) {
	pod := appPod("shop", func(p *corev1.Pod) {
		p.Annotations = map[string]string{bootstrap.AnnotationPort: "99999", inject.AnnotationProxyConcurrency: "100"}
	})
	_, err := inject.Mutate(pod, inject.Namespace{Name: "shop", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}, inject.Env{})
	var fields []string
	for _, fe := range bootstrap.FieldErrors(err) {
		fields = append(fields, fe.Field)
	}
	if !slices.Equal(fields, []string{bootstrap.AnnotationPort, inject.AnnotationProxyConcurrency}) {
		t.Errorf("field errors %v, want the port's then the concurrency's (%v)", fields, err)
	}
}

// TestInitArgs: osm-init's command line says the pod's traffic settings, as osm-init parses
// them (what the kernel then does with them is osm-init's tests', in network namespaces).
func TestInitArgs(t *testing.T) {
	traffic := inject.Traffic{
		OutboundPortExclusions: []uint16{3306},
		InboundPortExclusions:  []uint16{9090},
		OutboundIPExclusions:   prefixes(t, "169.254.169.254/32", "fd00:ec2::254/128"),
		OutboundIPInclusions:   prefixes(t, "10.96.0.0/12"),
		Concurrency:            4,
	}
	pod := inject.Inject(appPod("shop"), fakeGenerated("web", "0123456789"), inject.DefaultProxyConfig(), traffic)
	args := pod.Spec.InitContainers[0].Args
	specArgs, _, _ := redirect.SplitArgs(args)
	got, err := redirect.Parse(specArgs)
	if err != nil {
		t.Fatalf("osm-init's arguments %q: %v", args, err)
	}
	want := redirect.Default()
	want.OutboundPortExclusions, want.InboundPortExclusions = traffic.OutboundPortExclusions, traffic.InboundPortExclusions
	want.OutboundIPExclusions, want.OutboundIPInclusions = traffic.OutboundIPExclusions, traffic.OutboundIPInclusions
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("osm-init's redirect (-want +got):\n%s", diff)
	}
	envoy := pod.Spec.InitContainers[1]
	if i := slices.Index(envoy.Args, "--concurrency"); i < 0 || envoy.Args[i+1] != "4" {
		t.Errorf("envoy args %q, want --concurrency 4", envoy.Args)
	}
}

// TestEveryAcceptedTrafficRendersAValidRedirect: whatever annotations ResolveTraffic accepts,
// osm-init's command line is one it accepts too.
func TestEveryAcceptedTrafficRendersAValidRedirect(t *testing.T) {
	for _, ann := range []map[string]string{
		{},
		{inject.AnnotationOutboundPortExclusions: "1,65535, 80", inject.AnnotationInboundPortExclusions: "15020"},
		{inject.AnnotationOutboundIPExclusions: "10.0.0.1/8, ::1/128, fd00::1/7, 0.0.0.0/0"},
		{inject.AnnotationOutboundIPInclusions: "::/0", inject.AnnotationOutboundIPExclusions: "fe80::/10"},
	} {
		pod := appPod("shop", func(p *corev1.Pod) { p.Annotations = ann })
		traffic, err := inject.ResolveTraffic(pod, inject.Namespace{Name: "shop"}, inject.DefaultProxyConfig())
		if err != nil {
			t.Fatalf("%v: %v", ann, err)
		}
		spec := traffic.Redirect()
		if err := spec.Validate(); err != nil {
			t.Errorf("%v: the redirect %+v is not valid: %v", ann, spec, err)
		}
		if back, err := redirect.Parse(spec.Args()); err != nil || !reflect.DeepEqual(back, spec) {
			t.Errorf("%v: %q parses to %+v, %v", ann, spec.Args(), back, err)
		}
	}
}

func TestCheckServerVersion(t *testing.T) {
	for v, old := range map[string]bool{
		"": false, "v1.29.0": false, "v1.37.2": false, "v1.31.4-eks-1a2b3c": false, "v1.30.1+k3s1": false,
		"v1.28.15": true, "v1.27.0-gke.100": true,
	} {
		err := inject.CheckServerVersion(v)
		var unsupported *inject.UnsupportedClusterError
		if got := errors.As(err, &unsupported); got != old {
			t.Errorf("CheckServerVersion(%q) = %v; want refused %t", v, err, old)
		} else if old && (!strings.Contains(err.Error(), v) || !strings.Contains(err.Error(), "1.29")) {
			t.Errorf("the refusal %q names neither the version nor 1.29", err)
		}
	}
	if err := inject.CheckServerVersion("not-a-version"); err == nil || !strings.Contains(err.Error(), "not-a-version") {
		t.Errorf("a version that does not parse: %v", err)
	}
	pod := appPod("shop")
	ns := inject.Namespace{Name: "shop", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}
	var unsupported *inject.UnsupportedClusterError
	if _, err := inject.Mutate(pod, ns, inject.Env{ServerVersion: "v1.28.3"}); !errors.As(err, &unsupported) {
		t.Errorf("Mutate on a 1.28 cluster: %v, want an *UnsupportedClusterError", err)
	}
	if res, err := inject.Mutate(pod, inject.Namespace{Name: "shop"}, inject.Env{ServerVersion: "v1.28.3"}); err != nil || !res.Skipped {
		t.Errorf("a pod that is not injected anyway is refused on a 1.28 cluster: %v", err)
	}
}

// TestNearMissTrafficAnnotationsAreRefused: a misspelt traffic annotation is refused with a
// suggestion, not ignored; Open Service Mesh's own other annotations are left alone.
func TestNearMissTrafficAnnotationsAreRefused(t *testing.T) {
	pod := appPod("shop", func(p *corev1.Pod) {
		p.Annotations = map[string]string{
			"openservicemesh.io/outbound-ip-range-exclusion-lists": "10.0.0.0/8",
			"openservicemesh.io/metrics":                           "enabled",
		}
	})
	_, err := inject.ResolveTraffic(pod, inject.Namespace{Name: "shop"}, inject.DefaultProxyConfig())
	fes := bootstrap.FieldErrors(err)
	if len(fes) != 1 || fes[0].Field != "openservicemesh.io/outbound-ip-range-exclusion-lists" ||
		!strings.Contains(fes[0].Error(), "did you mean "+inject.AnnotationOutboundIPExclusions+"?") {
		t.Fatalf("ResolveTraffic = %v, want one refusal of the near miss with a suggestion", err)
	}
}
