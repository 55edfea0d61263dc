package proxy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAdminPath(t *testing.T) {
	tests := map[string]struct {
		query, want, err string
	}{
		"config_dump as the guide writes it": {query: "config_dump", want: "/config_dump"},
		"a leading slash is kept":            {query: "/clusters", want: "/clusters"},
		"a query string is kept":             {query: "stats?filter=tracing&format=json", want: "/stats?filter=tracing&format=json"},
		"an empty query":                     {query: " ", err: "empty"},
		"a URL":                              {query: "http://127.0.0.1:15000/ready", err: "is a URL"},
		"the root":                           {query: "/", err: "not an Envoy admin path"},
		"a path that climbs":                 {query: "../etc/passwd", err: "not an Envoy admin path"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AdminPath(tc.query)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("AdminPath(%q) = %q, %v; want an error containing %q", tc.query, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("AdminPath(%q) = %q, %v; want %q", tc.query, got, err, tc.want)
			}
		})
	}
}

func injectedPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "bookbuyer-1", Namespace: "bookbuyer"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{
				{Name: "bookbuyer"},
				{Name: "envoy", VolumeMounts: []corev1.VolumeMount{{Name: "envoy-bootstrap", MountPath: "/etc/envoy"}}},
			},
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}}}},
				{Name: "envoy-bootstrap", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "envoy-bootstrap-bookbuyer-0123456789"}}}},
			},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "envoy", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			},
		},
	}
}

func TestCheckAdminReachable(t *testing.T) {
	tests := map[string]struct {
		change func(*corev1.Pod)
		err    string
	}{
		"a running injected pod": {change: func(*corev1.Pod) {}},
		"a pod without the envoy container": {
			change: func(p *corev1.Pod) { p.Spec.Containers = p.Spec.Containers[:1] },
			err:    `has no "envoy" container`,
		},
		"a pending pod": {
			change: func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending },
			err:    "is Pending, not Running",
		},
		"a pod whose envoy crash-loops": {
			change: func(p *corev1.Pod) {
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
			},
			err: "waiting: CrashLoopBackOff",
		},
		"a terminating pod": {
			change: func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} },
			err:    "terminating",
		},
		"a Job pod whose envoy is a running native sidecar": {change: nativeSidecar},
		"a Job pod whose native envoy sidecar crash-loops": {
			change: func(p *corev1.Pod) {
				nativeSidecar(p)
				p.Status.InitContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
			},
			err: "waiting: CrashLoopBackOff",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := injectedPod()
			tc.change(pod)
			err := CheckAdminReachable(pod)
			if (err != nil) != (tc.err != "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("CheckAdminReachable = %v, want error containing %q", err, tc.err)
			}
		})
	}
}

func TestBootstrapConfigMapName(t *testing.T) {
	tests := map[string]struct {
		change func(*corev1.Pod)
		want   string
		err    string
	}{
		"the volume mounted at /etc/envoy": {change: func(*corev1.Pod) {}, want: "envoy-bootstrap-bookbuyer-0123456789"},
		"the only bootstrap volume, mounted elsewhere": {
			change: func(p *corev1.Pod) { p.Spec.Containers[1].VolumeMounts[0].MountPath = "/config" },
			want:   "envoy-bootstrap-bookbuyer-0123456789",
		},
		"a native sidecar mounting it at /etc/envoy": {change: nativeSidecar, want: "envoy-bootstrap-bookbuyer-0123456789"},
		"no bootstrap volume": {
			change: func(p *corev1.Pod) { p.Spec.Volumes = p.Spec.Volumes[:1] },
			err:    "is not injected",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := injectedPod()
			tc.change(pod)
			got, err := BootstrapConfigMapName(pod)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("BootstrapConfigMapName = %q, %v; want error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BootstrapConfigMapName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// nativeSidecar moves the pod's envoy container and its status among the init containers,
// as the injector does for every pod (a native sidecar, restartPolicy Always).
func nativeSidecar(p *corev1.Pod) {
	envoy := p.Spec.Containers[1]
	envoy.RestartPolicy = new(corev1.ContainerRestartPolicyAlways)
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.Spec.Containers = p.Spec.Containers[:1]
	p.Spec.InitContainers = append(p.Spec.InitContainers, envoy)
	p.Status.InitContainerStatuses = p.Status.ContainerStatuses
	p.Status.ContainerStatuses = nil
}
