package inject_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// fakeGenerated is enough of a bootstrap for Inject, which reads the service name and hash.
func fakeGenerated(service, hash string) bootstrap.Generated {
	return bootstrap.Generated{Settings: bootstrap.Settings{ServiceName: service}, Hash: hash}
}

// podsToInject are pods of every shape Inject must handle.
func podsToInject(t *testing.T) map[string]*corev1.Pod {
	pods := map[string]*corev1.Pod{
		"a plain pod":          appPod("shop"),
		"a pod without labels": appPod("shop", func(p *corev1.Pod) { p.Labels = nil }),
		"a pod with init containers and volumes": appPod("shop", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "example.com/migrate:1"}}
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		}),
		"a Job's pod":                appPod("shop", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }),
		"a pod restarted on failure": appPod("shop", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }),
		"a Guaranteed pod":           appPod("shop", guaranteed("500m", "256Mi")),
		"a pod scraped on its own port": appPod("shop", func(p *corev1.Pod) {
			p.Annotations = map[string]string{inject.AnnotationPrometheusScrape: "true", inject.AnnotationPrometheusPort: "9102"}
		}),
	}
	for name, d := range demoDeployments(t) {
		pods["the demo's "+name] = podOf(d)
	}
	return pods
}

func TestInjectIsIdempotent(t *testing.T) {
	g := fakeGenerated("web", "0123456789")
	for name, pod := range podsToInject(t) {
		t.Run(name, func(t *testing.T) {
			once := inject.Inject(pod, g, inject.DefaultProxyConfig(), inject.Traffic{})
			twice := inject.Inject(once, g, inject.DefaultProxyConfig(), inject.Traffic{})
			if !equality.Semantic.DeepEqual(once, twice) {
				t.Errorf("Inject(Inject(p)) != Inject(p):\n%s", cmp.Diff(once, twice))
			}
		})
	}
}

func TestUninjectUndoesInject(t *testing.T) {
	g := fakeGenerated("web", "0123456789")
	for name, pod := range podsToInject(t) {
		t.Run(name, func(t *testing.T) {
			before := pod.DeepCopy()
			injected := inject.Inject(pod, g, inject.DefaultProxyConfig(), inject.Traffic{})
			if !equality.Semantic.DeepEqual(pod, before) {
				t.Fatalf("Inject modified its input:\n%s", cmp.Diff(before, pod))
			}
			if !inject.IsInjected(injected) {
				t.Fatal("the injected pod is not IsInjected")
			}
			got := inject.Uninject(injected)
			if diff := cmp.Diff(pod, got); diff != "" {
				t.Errorf("Uninject(Inject(p)) != p (-want +got):\n%s", diff)
			}
			if inject.IsInjected(got) {
				t.Error("the uninjected pod is IsInjected")
			}
		})
	}
}

func TestInjectReplacesAnOlderSidecar(t *testing.T) {
	pod := appPod("shop")
	old := inject.Inject(pod, fakeGenerated("web", "1111111111"), inject.ProxyConfig{EnvoyImage: "envoy:old"}, inject.Traffic{})
	got := inject.Inject(old, fakeGenerated("web", "2222222222"), inject.DefaultProxyConfig(), inject.Traffic{})
	want := inject.Inject(pod, fakeGenerated("web", "2222222222"), inject.DefaultProxyConfig(), inject.Traffic{})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("re-injection (-want +got):\n%s", diff)
	}
}

func TestInjectAddsTheSidecar(t *testing.T) {
	proxy := inject.DefaultProxyConfig()
	pod := appPod("shop", func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "migrate"}}
	})
	got := inject.Inject(pod, fakeGenerated("web", "0123456789"), proxy, inject.Traffic{})

	if names := containerNames(got.Spec.Containers); !slices.Equal(names, []string{"web"}) {
		t.Errorf("containers = %v, want the app's only", names)
	}
	if names := containerNames(got.Spec.InitContainers); !slices.Equal(names, []string{"osm-init", "envoy", "migrate"}) {
		t.Fatalf("init containers = %v, want osm-init, then envoy, then the app's", names)
	}
	if v := got.Labels[bootstrap.BootstrapHashKey]; v != "0123456789" {
		t.Errorf("bootstrap-hash label = %q", v)
	}
	vol := got.Spec.Volumes[len(got.Spec.Volumes)-2]
	if vol.Name != inject.BootstrapVolumeName || vol.ConfigMap == nil || vol.ConfigMap.Name != "envoy-bootstrap-web-0123456789" {
		t.Errorf("bootstrap volume = %+v", vol)
	}

	envoy := got.Spec.InitContainers[1]
	if envoy.Image != proxy.EnvoyImage {
		t.Errorf("envoy image = %q", envoy.Image)
	}
	if envoy.RestartPolicy == nil || *envoy.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("envoy's restart policy = %v, want Always (a native sidecar)", envoy.RestartPolicy)
	}
	if want := []string{"-c", "/var/run/osm/bootstrap.yaml", "--log-level", "info", "--service-node", "$(POD_NAME).$(POD_NAMESPACE)",
		"--disable-hot-restart", "--concurrency", "2"}; !slices.Equal(envoy.Args, want) {
		t.Errorf("envoy args = %q", envoy.Args)
	}
	sc := envoy.SecurityContext
	if *sc.RunAsUser != 1500 || !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("envoy security context = %+v", sc)
	}
	if len(envoy.VolumeMounts) != 2 || envoy.VolumeMounts[0].MountPath != "/etc/envoy" || !envoy.VolumeMounts[0].ReadOnly ||
		envoy.VolumeMounts[1].Name != "osm-run" || envoy.VolumeMounts[1].MountPath != "/var/run/osm" || !envoy.VolumeMounts[1].ReadOnly {
		t.Errorf("envoy volume mounts = %+v", envoy.VolumeMounts)
	}
	if run := got.Spec.Volumes[len(got.Spec.Volumes)-1]; run.Name != "osm-run" || run.EmptyDir == nil {
		t.Errorf("run volume = %+v", run)
	}
	if l := envoy.Lifecycle; l == nil || l.PreStop == nil || l.PreStop.Exec == nil ||
		!slices.Equal(l.PreStop.Exec.Command, []string{"/var/run/osm/osm-init", "drain"}) {
		t.Errorf("envoy's preStop hook = %+v, want osm-init's drain from the run volume", l)
	}
	ports := map[string]int32{}
	for _, p := range envoy.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if diff := cmp.Diff(map[string]int32{"proxy-outbound": 15001, "proxy-inbound": 15003, "proxy-health": 15021, "http-envoy-prom": 15090}, ports); diff != "" {
		t.Errorf("envoy ports (-want +got):\n%s", diff)
	}
	for name, p := range map[string]*corev1.Probe{"readiness": envoy.ReadinessProbe, "startup": envoy.StartupProbe, "liveness": envoy.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz/ready" || p.HTTPGet.Port.IntValue() != 15021 {
			t.Errorf("%s probe = %+v", name, p)
		}
	}
	if !equality.Semantic.DeepEqual(envoy.Resources, proxy.Resources) {
		t.Errorf("envoy resources = %+v", envoy.Resources)
	}

	initC := got.Spec.InitContainers[0]
	isc := initC.SecurityContext
	if initC.Image != proxy.InitImage || *isc.RunAsUser != 0 || *isc.RunAsNonRoot || *isc.Privileged ||
		!slices.Equal(isc.Capabilities.Add, []corev1.Capability{"NET_ADMIN"}) ||
		!slices.Equal(isc.Capabilities.Drop, []corev1.Capability{"ALL"}) || !*isc.ReadOnlyRootFilesystem {
		t.Errorf("osm-init = %+v, security context %+v", initC, isc)
	}
	// The command line osm-init parses, as osm-init parses it.
	if !slices.Equal(initC.Command, []string{"/osm-init"}) {
		t.Errorf("osm-init command = %q", initC.Command)
	}
	n := len(initC.Args) - 2
	if want := []string{"--run-dir=/var/run/osm", "--bootstrap-dir=/etc/envoy"}; n < 0 || !slices.Equal(initC.Args[n:], want) {
		t.Errorf("osm-init's arguments %q do not end with %q", initC.Args, want)
	}
	if len(initC.VolumeMounts) != 1 || initC.VolumeMounts[0].Name != "osm-run" || initC.VolumeMounts[0].ReadOnly {
		t.Errorf("osm-init volume mounts = %+v, want the run volume, writable", initC.VolumeMounts)
	}
	spec, err := redirect.Parse(initC.Args[:max(n, 0)])
	if err != nil {
		t.Fatalf("osm-init's arguments %q do not parse: %v", initC.Args, err)
	}
	if want := redirect.Default(); !reflect.DeepEqual(spec, want) {
		t.Errorf("osm-init's redirect = %+v, want %+v", spec, want)
	}
	if !equality.Semantic.DeepEqual(initC.Resources, proxy.InitResources) {
		t.Errorf("osm-init resources = %+v", initC.Resources)
	}
}

func TestInjectMakesEnvoyANativeSidecarOfEveryPod(t *testing.T) {
	for _, policy := range []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure} {
		t.Run(string(policy), func(t *testing.T) {
			pod := appPod("shop", func(p *corev1.Pod) { p.Spec.RestartPolicy = policy })
			got := inject.Inject(pod, fakeGenerated("web", "0123456789"), inject.DefaultProxyConfig(), inject.Traffic{})
			if names := containerNames(got.Spec.Containers); !slices.Equal(names, []string{"web"}) {
				t.Errorf("containers = %v", names)
			}
			if names := containerNames(got.Spec.InitContainers); !slices.Equal(names, []string{"osm-init", "envoy"}) {
				t.Fatalf("init containers = %v, want osm-init then envoy", names)
			}
			if rp := got.Spec.InitContainers[1].RestartPolicy; rp == nil || *rp != corev1.ContainerRestartPolicyAlways {
				t.Errorf("envoy's restart policy = %v, want Always", rp)
			}
		})
	}
}

func TestInjectDefaultsAnEmptyProxyConfig(t *testing.T) {
	got := inject.Inject(appPod("shop"), fakeGenerated("web", "0123456789"), inject.ProxyConfig{}, inject.Traffic{})
	envoy := got.Spec.InitContainers[1]
	if envoy.Image != inject.DefaultEnvoyImage || got.Spec.InitContainers[0].Image != inject.DefaultInitImage ||
		!slices.Contains(envoy.Args, inject.DefaultLogLevel) {
		t.Errorf("an empty ProxyConfig gave envoy %q %q, init %q", envoy.Image, envoy.Args, got.Spec.InitContainers[0].Image)
	}
}

func TestUninjectNil(t *testing.T) {
	if inject.Uninject(nil) != nil || inject.Inject(nil, bootstrap.Generated{}, inject.ProxyConfig{}, inject.Traffic{}) != nil {
		t.Fatal("nil in, non-nil out")
	}
}

func TestProxyConfigValidate(t *testing.T) {
	for _, l := range []string{"", "info", "debug", "trace", "warning", "error", "critical", "off"} {
		if err := (inject.ProxyConfig{LogLevel: l}).Validate(); err != nil {
			t.Errorf("log level %q: %v", l, err)
		}
	}
	if err := (inject.ProxyConfig{LogLevel: "verbose"}).Validate(); err == nil || !strings.Contains(err.Error(), `"verbose"`) {
		t.Errorf("log level verbose: %v", err)
	}
}

func containerNames(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}
