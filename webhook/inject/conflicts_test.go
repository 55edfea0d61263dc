package inject_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

func TestConflictsAreRefusedByName(t *testing.T) {
	uid := func(u int64) *corev1.SecurityContext { return &corev1.SecurityContext{RunAsUser: &u} }
	tests := map[string]struct {
		pod  *corev1.Pod
		want []string // one message each, in order
	}{
		"a plain pod has none": {pod: appPod("shop")},
		"a container named envoy": {
			pod:  appPod("shop", func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "envoy"}) }),
			want: []string{`pod spec.containers[1].name: invalid value "envoy": is the name of a container the injector adds`},
		},
		"a native sidecar named envoy and an init container named osm-init": {
			pod: appPod("shop", func(p *corev1.Pod) {
				always := corev1.ContainerRestartPolicyAlways
				p.Spec.InitContainers = []corev1.Container{{Name: "osm-init"}, {Name: "envoy", RestartPolicy: &always}}
			}),
			want: []string{`pod spec.initContainers[0].name: invalid value "osm-init"`, `pod spec.initContainers[1].name: invalid value "envoy"`},
		},
		"a container running as the proxy's uid": {
			pod:  appPod("shop", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = uid(1500) }),
			want: []string{`pod spec.containers[0].securityContext.runAsUser: invalid value "1500": container "web" would run as the sidecar's uid`},
		},
		"a pod-wide proxy uid names the containers that inherit it": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: new(int64(1500))}
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "own-uid", SecurityContext: uid(1000)})
				p.Spec.InitContainers = []corev1.Container{{Name: "migrate"}}
			}),
			want: []string{
				`pod spec.securityContext.runAsUser: invalid value "1500": container "migrate"`,
				`pod spec.securityContext.runAsUser: invalid value "1500": container "web"`,
			},
		},
		"another uid is fine": {pod: appPod("shop", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = uid(1501) })},
		"ports of the proxy": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 15001}, {ContainerPort: 15021}}
				p.Spec.InitContainers = []corev1.Container{{Name: "side", Ports: []corev1.ContainerPort{{ContainerPort: 15000}, {ContainerPort: 15003}}}}
			}),
			want: []string{
				`pod spec.initContainers[0].ports[0].containerPort: invalid value "15000": is the sidecar's admin port`,
				`pod spec.initContainers[0].ports[1].containerPort: invalid value "15003": is the sidecar's inbound capture port`,
				`pod spec.containers[0].ports[1].containerPort: invalid value "15001": is the sidecar's outbound capture port`,
				`pod spec.containers[0].ports[2].containerPort: invalid value "15021": is the sidecar's health port`,
			},
		},
		"the proxy's Prometheus port": {
			pod: appPod("shop", func(p *corev1.Pod) { p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 15090}} }),
			want: []string{`pod spec.containers[0].ports[0].containerPort: invalid value "15090": is the sidecar's Prometheus port ` +
				`(the sidecar listens on 15000, 15001, 15003, 15021 and 15090)`},
		},
		"a user's volume named like the bootstrap's": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: inject.BootstrapVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			}),
			want: []string{`pod spec.volumes[0].name: invalid value "envoy-bootstrap": is the name of a volume the injector adds`},
		},
		"a bootstrap ConfigMap of ours that a container mounts is the user's": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: inject.BootstrapVolumeName, VolumeSource: corev1.VolumeSource{
					ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: bootstrap.ConfigMapPrefix + "web-1"}},
				}}}
				p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: inject.BootstrapVolumeName, MountPath: "/cfg"}}
			}),
			want: []string{`pod spec.volumes[0].name: invalid value "envoy-bootstrap"`},
		},
		"a leftover bootstrap volume is not a conflict (injection replaces it)": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: inject.BootstrapVolumeName, VolumeSource: corev1.VolumeSource{
					ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: bootstrap.ConfigMapPrefix + "web-1"}},
				}}}
			}),
		},
		"an injected pod is ours": {
			pod: inject.Inject(appPod("shop"), fakeGenerated("web", "0123456789"), inject.DefaultProxyConfig(), inject.Traffic{}),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := inject.Conflicts(tc.pod)
			fes := bootstrap.FieldErrors(err)
			if len(fes) != len(tc.want) {
				t.Fatalf("Conflicts = %v, want %d field errors", err, len(tc.want))
			}
			for i, fe := range fes {
				if msg := fe.Error(); !strings.HasPrefix(msg, tc.want[i]) {
					t.Errorf("conflict %d = %q\nwant it to start with %q", i, msg, tc.want[i])
				}
				if !strings.Contains(fe.Error(), "sidecar-injection: disabled") {
					t.Errorf("conflict %d does not say how to opt out: %q", i, fe.Error())
				}
			}
		})
	}
}

// Mutate refuses a conflicting pod with the field error (the webhook's Denied), and an
// injected pod's containers are its own: un-injection of a pod without the marker keeps a
// user's container named envoy.
func TestMutateRefusesConflictsAndUninjectKeepsTheUsers(t *testing.T) {
	pod := appPod("shop", func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "envoy"}) })
	_, err := inject.Mutate(pod, enabledNS("shop"), goldenEnv(meshOn))
	if fes := bootstrap.FieldErrors(err); len(fes) != 1 || fes[0].Field != "spec.containers[1].name" {
		t.Fatalf("Mutate = %v, want the conflict of spec.containers[1].name", err)
	}
	if got := inject.Uninject(pod); !slices.Equal(containerNames(got.Spec.Containers), []string{"web", "envoy"}) {
		t.Errorf("Uninject of a pod we did not inject dropped the user's containers: %v", containerNames(got.Spec.Containers))
	}
	injected := inject.Inject(appPod("shop"), fakeGenerated("web", "0123456789"), inject.DefaultProxyConfig(), inject.Traffic{})
	if got := inject.Uninject(injected); len(got.Spec.InitContainers) != 0 || len(got.Spec.Volumes) != 0 || got.Labels[bootstrap.BootstrapHashKey] != "" {
		t.Errorf("Uninject of an injected pod left parts of ours: %+v", got.Spec)
	}
}
