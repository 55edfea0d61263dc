package inject_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// requirements builds ResourceRequirements from "cpu=100m" style pairs, requests then limits.
func requirements(requests, limits []string) corev1.ResourceRequirements {
	list := func(pairs []string) corev1.ResourceList {
		if pairs == nil {
			return nil
		}
		out := corev1.ResourceList{}
		for _, p := range pairs {
			k, v, _ := strings.Cut(p, "=")
			out[corev1.ResourceName(k)] = resource.MustParse(v)
		}
		return out
	}
	return corev1.ResourceRequirements{Requests: list(requests), Limits: list(limits)}
}

// guaranteed gives every container of a pod CPU and memory limits equal to its requests.
func guaranteed(cpu, memory string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		r := requirements([]string{"cpu=" + cpu, "memory=" + memory}, []string{"cpu=" + cpu, "memory=" + memory})
		for i := range p.Spec.InitContainers {
			p.Spec.InitContainers[i].Resources = *r.DeepCopy()
		}
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].Resources = *r.DeepCopy()
		}
	}
}

func injectionNamespace(annotations map[string]string) inject.Namespace {
	return inject.Namespace{Name: "shop", Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}, Annotations: annotations}
}

// mutated is the injected pod of pod in ns, with the chart's default proxy config.
func mutated(t *testing.T, pod *corev1.Pod, ns inject.Namespace) *corev1.Pod {
	t.Helper()
	env := inject.Env{Proxy: inject.DefaultProxyConfig()}
	res, err := inject.Mutate(pod, ns, env)
	if err != nil || res.Skipped {
		t.Fatalf("Mutate: %v (skipped: %s)", err, res.Reason)
	}
	return res.Pod
}

func injected(t *testing.T, pod *corev1.Pod, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no init container %s", name)
	return corev1.Container{}
}

func TestResolveResources(t *testing.T) {
	chart := inject.DefaultProxyConfig() // requests cpu 50m, memory 64Mi; limits memory 512Mi
	tests := map[string]struct {
		nsAnn, podAnn map[string]string
		want          corev1.ResourceRequirements
	}{
		"the chart's": {
			want: requirements([]string{"cpu=50m", "memory=64Mi"}, []string{"memory=512Mi"}),
		},
		"a namespace's CPU limit adds to the chart's": {
			nsAnn: map[string]string{inject.AnnotationProxyCPULimit: "500m"},
			want:  requirements([]string{"cpu=50m", "memory=64Mi"}, []string{"cpu=500m", "memory=512Mi"}),
		},
		"the pod's wins key by key over the namespace's": {
			nsAnn: map[string]string{inject.AnnotationProxyCPULimit: "500m", inject.AnnotationProxyCPURequest: "100m"},
			podAnn: map[string]string{
				inject.AnnotationProxyCPULimit:      "1",
				inject.AnnotationProxyMemoryRequest: "128Mi",
				inject.AnnotationProxyMemoryLimit:   " 1Gi ",
			},
			want: requirements([]string{"cpu=100m", "memory=128Mi"}, []string{"cpu=1", "memory=1Gi"}),
		},
		"a request equal to its limit": {
			podAnn: map[string]string{inject.AnnotationProxyMemoryRequest: "512Mi"},
			want:   requirements([]string{"cpu=50m", "memory=512Mi"}, []string{"memory=512Mi"}),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := appPod("shop", func(p *corev1.Pod) { p.Annotations = tc.podAnn })
			got, err := inject.ResolveResources(pod, injectionNamespace(tc.nsAnn), chart)
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("resources (-want +got):\n%s", cmp.Diff(tc.want, got))
			}
			// Through Mutate: the envoy container has them.
			envoy := injected(t, mutated(t, pod, injectionNamespace(tc.nsAnn)), inject.EnvoyContainerName)
			if !equality.Semantic.DeepEqual(envoy.Resources, tc.want) {
				t.Errorf("envoy's resources (-want +got):\n%s", cmp.Diff(tc.want, envoy.Resources))
			}
		})
	}
	t.Run("the chart's are not modified", func(t *testing.T) {
		before := chart.Resources.DeepCopy()
		pod := appPod("shop", annotated(inject.AnnotationProxyCPULimit, "2"))
		if _, err := inject.ResolveResources(pod, injectionNamespace(nil), chart); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(*before, chart.Resources) {
			t.Errorf("the proxy config's resources changed to %+v", chart.Resources)
		}
	})
}

func TestResolveResourcesRefusesBadValues(t *testing.T) {
	tests := map[string]struct {
		nsAnn, podAnn map[string]string
		// The one error: its source, annotation, value and part of what is accepted.
		source, key, value, accepted string
	}{
		"not a quantity": {
			podAnn: map[string]string{inject.AnnotationProxyCPURequest: "lots"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyCPURequest, value: "lots", accepted: "positive Kubernetes quantity of CPU",
		},
		"zero": {
			podAnn: map[string]string{inject.AnnotationProxyCPULimit: "0"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyCPULimit, value: "0", accepted: "positive",
		},
		"negative": {
			nsAnn:  map[string]string{inject.AnnotationProxyMemoryLimit: "-1Gi"},
			source: bootstrap.NamespaceSource("shop"), key: inject.AnnotationProxyMemoryLimit, value: "-1Gi", accepted: "positive",
		},
		"memory in millibytes": {
			podAnn: map[string]string{inject.AnnotationProxyMemoryRequest: "128m"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyMemoryRequest, value: "128m", accepted: "whole number of bytes",
		},
		"a request above the chart's limit": {
			podAnn: map[string]string{inject.AnnotationProxyMemoryRequest: "1Gi"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyMemoryRequest, value: "1Gi",
			accepted: "must not exceed the memory limit 512Mi (from the chart's osm.sidecar.resources",
		},
		"a limit below the chart's request": {
			podAnn: map[string]string{inject.AnnotationProxyCPULimit: "10m"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyCPULimit, value: "10m",
			accepted: "must be at least the cpu request 50m (from the chart's",
		},
		"the pod's limit below the namespace's request names the pod's": {
			nsAnn:  map[string]string{inject.AnnotationProxyCPURequest: "1"},
			podAnn: map[string]string{inject.AnnotationProxyCPULimit: "500m"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyCPULimit, value: "500m",
			accepted: `must be at least the cpu request 1 (from namespace "shop" annotation ` + inject.AnnotationProxyCPURequest,
		},
		"the pod's request above the namespace's limit names the pod's": {
			nsAnn:  map[string]string{inject.AnnotationProxyCPULimit: "500m"},
			podAnn: map[string]string{inject.AnnotationProxyCPURequest: "1"},
			source: bootstrap.SourcePod, key: inject.AnnotationProxyCPURequest, value: "1",
			accepted: `must not exceed the cpu limit 500m (from namespace "shop" annotation ` + inject.AnnotationProxyCPULimit,
		},
		"a misspelt annotation": {
			podAnn: map[string]string{"openservicemesh.io/proxy-cpu-requests": "100m"},
			source: bootstrap.SourcePod, key: "openservicemesh.io/proxy-cpu-requests", value: "100m",
			accepted: "did you mean " + inject.AnnotationProxyCPURequest,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := appPod("shop", func(p *corev1.Pod) { p.Annotations = tc.podAnn })
			// Through Mutate, as the webhook and osm inject call it: the pod is denied.
			_, err := inject.Mutate(pod, injectionNamespace(tc.nsAnn), inject.Env{Proxy: inject.DefaultProxyConfig()})
			fes := bootstrap.FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("Mutate: %v; want one field error", err)
			}
			fe := fes[0]
			if fe.Source != tc.source || fe.Field != tc.key || fe.Value != tc.value || !strings.Contains(fe.Accepted, tc.accepted) {
				t.Errorf("error %+v;\nwant source %q, field %q, value %q, accepted containing %q", fe, tc.source, tc.key, tc.value, tc.accepted)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.key) || !strings.Contains(msg, tc.value) {
				t.Errorf("message %q names neither the annotation nor the value", msg)
			}
		})
	}
}

func TestPodQOS(t *testing.T) {
	c := func(requests, limits []string) corev1.Container {
		return corev1.Container{Name: "c", Resources: requirements(requests, limits)}
	}
	both := []string{"cpu=1", "memory=1Gi"}
	tests := map[string]struct {
		spec corev1.PodSpec
		want corev1.PodQOSClass
	}{
		"nothing set":             {corev1.PodSpec{Containers: []corev1.Container{c(nil, nil)}}, corev1.PodQOSBestEffort},
		"only other resources":    {corev1.PodSpec{Containers: []corev1.Container{c([]string{"ephemeral-storage=1Gi"}, nil)}}, corev1.PodQOSBestEffort},
		"requests equal limits":   {corev1.PodSpec{Containers: []corev1.Container{c(both, both)}}, corev1.PodQOSGuaranteed},
		"limits alone (defaults)": {corev1.PodSpec{Containers: []corev1.Container{c(nil, both)}}, corev1.PodQOSGuaranteed},
		"a request below its limit": {
			corev1.PodSpec{Containers: []corev1.Container{c([]string{"cpu=500m", "memory=1Gi"}, both)}}, corev1.PodQOSBurstable,
		},
		"CPU only": {corev1.PodSpec{Containers: []corev1.Container{c([]string{"cpu=1"}, []string{"cpu=1"})}}, corev1.PodQOSBurstable},
		"a BestEffort init container makes it Burstable": {
			corev1.PodSpec{InitContainers: []corev1.Container{c(nil, nil)}, Containers: []corev1.Container{c(both, both)}}, corev1.PodQOSBurstable,
		},
		"a Guaranteed init container": {
			corev1.PodSpec{InitContainers: []corev1.Container{c(both, both)}, Containers: []corev1.Container{c(both, both)}}, corev1.PodQOSGuaranteed,
		},
		"pod-level resources decide": {
			corev1.PodSpec{Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi"),
			}}, Containers: []corev1.Container{c(nil, nil)}},
			corev1.PodQOSGuaranteed,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := inject.PodQOS(&corev1.Pod{Spec: tc.spec}); got != tc.want {
				t.Errorf("PodQOS = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestGuaranteedPodsStayGuaranteed: injecting a Guaranteed pod gives envoy and osm-init
// requests equal to their limits, for CPU and memory, so the pod keeps its QoS class (the
// kubelet would otherwise make it Burstable: first to be evicted, and out of the static CPU
// manager's exclusive cores).
func TestGuaranteedPodsStayGuaranteed(t *testing.T) {
	tests := map[string]struct {
		pod                 *corev1.Pod
		ns                  map[string]string
		wantEnvoy, wantInit corev1.ResourceRequirements
	}{
		"the chart's defaults: each limit, else the request": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: "migrate"}}
				guaranteed("500m", "256Mi")(p)
			}),
			wantEnvoy: requirements([]string{"cpu=50m", "memory=512Mi"}, []string{"cpu=50m", "memory=512Mi"}),
			wantInit:  requirements([]string{"cpu=100m", "memory=64Mi"}, []string{"cpu=100m", "memory=64Mi"}),
		},
		"the annotations' CPU limit and the pod's memory request, over the chart's memory limit": {
			pod:       appPod("shop", guaranteed("1", "1Gi"), annotated(inject.AnnotationProxyMemoryRequest, "128Mi")),
			ns:        map[string]string{inject.AnnotationProxyCPULimit: "750m"},
			wantEnvoy: requirements([]string{"cpu=750m", "memory=128Mi"}, []string{"cpu=750m", "memory=128Mi"}),
			wantInit:  requirements([]string{"cpu=100m", "memory=64Mi"}, []string{"cpu=100m", "memory=64Mi"}),
		},
		"the pod's memory limit over the namespace's request; the namespace's CPU request over the chart's nothing": {
			pod: appPod("shop", guaranteed("1", "1Gi"), annotated(inject.AnnotationProxyMemoryLimit, "300Mi")),
			ns: map[string]string{inject.AnnotationProxyMemoryRequest: "200Mi", inject.AnnotationProxyCPURequest: "150m",
				inject.AnnotationProxyCPULimit: "1"},
			wantEnvoy: requirements([]string{"cpu=1", "memory=300Mi"}, []string{"cpu=1", "memory=300Mi"}),
			wantInit:  requirements([]string{"cpu=100m", "memory=64Mi"}, []string{"cpu=100m", "memory=64Mi"}),
		},
		"limits alone, as osm inject sees a pod before the API server's defaulting": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources = requirements(nil, []string{"cpu=1", "memory=1Gi"})
			}, annotated(inject.AnnotationProxyCPURequest, "200m")),
			wantEnvoy: requirements([]string{"cpu=200m", "memory=512Mi"}, []string{"cpu=200m", "memory=512Mi"}),
			wantInit:  requirements([]string{"cpu=100m", "memory=64Mi"}, []string{"cpu=100m", "memory=64Mi"}),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if q := inject.PodQOS(tc.pod); q != corev1.PodQOSGuaranteed {
				t.Fatalf("the test pod is %s", q)
			}
			got := mutated(t, tc.pod, injectionNamespace(tc.ns))
			if q := inject.PodQOS(got); q != corev1.PodQOSGuaranteed {
				t.Errorf("the injected pod is %s, want Guaranteed", q)
			}
			if envoy := injected(t, got, inject.EnvoyContainerName); !equality.Semantic.DeepEqual(envoy.Resources, tc.wantEnvoy) {
				t.Errorf("envoy's resources (-want +got):\n%s", cmp.Diff(tc.wantEnvoy, envoy.Resources))
			}
			if initC := injected(t, got, inject.InitContainerName); !equality.Semantic.DeepEqual(initC.Resources, tc.wantInit) {
				t.Errorf("osm-init's resources (-want +got):\n%s", cmp.Diff(tc.wantInit, initC.Resources))
			}
		})
	}

	t.Run("proxy config without resources: the built-in defaults' values", func(t *testing.T) {
		env := inject.Env{Proxy: inject.ProxyConfig{}}
		res, err := inject.Mutate(appPod("shop", guaranteed("1", "1Gi")), injectionNamespace(nil), env)
		if err != nil {
			t.Fatal(err)
		}
		if q := inject.PodQOS(res.Pod); q != corev1.PodQOSGuaranteed {
			t.Errorf("the injected pod is %s, want Guaranteed", q)
		}
		want := requirements([]string{"cpu=50m", "memory=512Mi"}, []string{"cpu=50m", "memory=512Mi"})
		if envoy := injected(t, res.Pod, inject.EnvoyContainerName); !equality.Semantic.DeepEqual(envoy.Resources, want) {
			t.Errorf("envoy's resources (-want +got):\n%s", cmp.Diff(want, envoy.Resources))
		}
	})
}

// TestOtherPodsKeepTheirClass: only Guaranteed pods have their sidecar's resources changed; a
// Burstable pod stays Burstable with the chart's resources, a BestEffort one becomes
// Burstable (the sidecar requests resources), and pod-level resources decide alone.
func TestOtherPodsKeepTheirClass(t *testing.T) {
	chart := inject.DefaultProxyConfig()
	tests := map[string]struct {
		pod  *corev1.Pod
		want corev1.PodQOSClass
	}{
		"Burstable": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources = requirements([]string{"cpu=100m"}, []string{"memory=1Gi"})
			}),
			want: corev1.PodQOSBurstable,
		},
		"Burstable by one container": {
			pod: appPod("shop", guaranteed("1", "1Gi"), func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "log", Resources: requirements([]string{"cpu=10m"}, nil)})
			}),
			want: corev1.PodQOSBurstable,
		},
		"BestEffort": {pod: appPod("shop"), want: corev1.PodQOSBurstable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := mutated(t, tc.pod, injectionNamespace(nil))
			if q := inject.PodQOS(got); q != tc.want {
				t.Errorf("the injected pod is %s, want %s", q, tc.want)
			}
			if envoy := injected(t, got, inject.EnvoyContainerName); !equality.Semantic.DeepEqual(envoy.Resources, chart.Resources) {
				t.Errorf("envoy's resources (-want +got):\n%s", cmp.Diff(chart.Resources, envoy.Resources))
			}
			if initC := injected(t, got, inject.InitContainerName); !equality.Semantic.DeepEqual(initC.Resources, chart.InitResources) {
				t.Errorf("osm-init's resources (-want +got):\n%s", cmp.Diff(chart.InitResources, initC.Resources))
			}
		})
	}
}

// TestCPULimitQuota: a namespace whose ResourceQuota tracks limits.cpu admits only pods whose
// every container, init containers included, sets a CPU limit (the quota admission's rule).
// The chart's envoy has none; the namespace annotation gives it one.
func TestCPULimitQuota(t *testing.T) {
	satisfied := func(p *corev1.Pod) []string {
		var missing []string
		for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
			for _, c := range cs {
				if _, ok := c.Resources.Limits[corev1.ResourceCPU]; !ok {
					missing = append(missing, c.Name)
				}
			}
		}
		return missing
	}
	pod := appPod("shop", func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = requirements([]string{"cpu=100m", "memory=128Mi"}, []string{"cpu=1", "memory=256Mi"})
	})
	if missing := satisfied(mutated(t, pod, injectionNamespace(nil))); len(missing) != 1 || missing[0] != inject.EnvoyContainerName {
		t.Errorf("without the annotation the containers without a CPU limit are %v, want envoy's alone", missing)
	}
	got := mutated(t, pod, injectionNamespace(map[string]string{inject.AnnotationProxyCPULimit: "1"}))
	if missing := satisfied(got); len(missing) > 0 {
		t.Errorf("the quota would refuse the pod: %v set no CPU limit", missing)
	}
	envoy := injected(t, got, inject.EnvoyContainerName)
	if lim := envoy.Resources.Limits[corev1.ResourceCPU]; lim.String() != "1" {
		t.Errorf("envoy's CPU limit = %s, want 1", lim.String())
	}
	if q := inject.PodQOS(got); q != corev1.PodQOSBurstable {
		t.Errorf("the injected pod is %s, want Burstable", q)
	}
}

// TestPodLevelResourcesShareTheBudget: in a pod with pod-level resources the sidecar and
// osm-init take from the pod's budget (the chart's CPU and memory are dropped), so a small
// pod-level limit never gets the pod refused by the API server; the class is the pod's; a
// proxy annotation is kept when it fits, and refused by name when it exceeds the pod's value.
func TestPodLevelResourcesShareTheBudget(t *testing.T) {
	podLevel := func(p *corev1.Pod) {
		p.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi"),
		}}
	}
	got := mutated(t, appPod("shop", podLevel), injectionNamespace(nil))
	if q := inject.PodQOS(got); q != corev1.PodQOSGuaranteed {
		t.Errorf("the injected pod is %s, want Guaranteed (its pod-level class)", q)
	}
	for _, name := range []string{inject.EnvoyContainerName, inject.InitContainerName} {
		if r := injected(t, got, name).Resources; len(r.Requests)+len(r.Limits) != 0 {
			t.Errorf("%s has resources of its own in a pod with pod-level resources: %v", name, r)
		}
	}
	got = mutated(t, appPod("shop", podLevel, annotated(inject.AnnotationProxyMemoryLimit, "128Mi")), injectionNamespace(nil))
	if q := injected(t, got, inject.EnvoyContainerName).Resources.Limits[corev1.ResourceMemory]; q.String() != "128Mi" {
		t.Errorf("envoy's memory limit is %s, want the annotation's 128Mi", q.String())
	}
	_, err := inject.Mutate(appPod("shop", podLevel, annotated(inject.AnnotationProxyCPURequest, "1")), injectionNamespace(nil),
		inject.Env{Proxy: inject.DefaultProxyConfig()})
	if err == nil || !strings.Contains(err.Error(), `pod annotation openservicemesh.io/proxy-cpu-request: invalid value "1": must not exceed the pod-level cpu 500m`) {
		t.Errorf("a CPU request above the pod-level limit: %v", err)
	}
}
