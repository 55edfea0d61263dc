package inject_test

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// enabledNS is a namespace labelled for injection.
func enabledNS(name string) inject.Namespace {
	return inject.Namespace{Name: name, Labels: map[string]string{bootstrap.InjectionLabel: "enabled"}}
}

// appPod is a plain pod in namespace ns with one container, changed by each of fs.
func appPod(ns string, fs ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.com/web:1"}}},
	}
	for _, f := range fs {
		f(p)
	}
	return p
}

func annotated(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
}

func TestDecide(t *testing.T) {
	tests := map[string]struct {
		pod        *corev1.Pod
		ns         inject.Namespace
		want       bool
		wantReason string // a part of the reason
	}{
		"a pod in a labelled namespace is injected": {
			pod: appPod("shop"), ns: enabledNS("shop"), want: true,
		},
		"a pod annotated enabled is injected": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "enabled")), ns: enabledNS("shop"), want: true,
		},
		"a pod annotated true is injected": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "true")), ns: enabledNS("shop"), want: true,
		},
		"a pod annotated yes is injected": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "yes")), ns: enabledNS("shop"), want: true,
		},
		"the annotation is read in any case": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "Enabled")), ns: enabledNS("shop"), want: true,
		},
		"the namespace comes from the pod when Namespace has no name": {
			pod: appPod("shop"), ns: inject.Namespace{Labels: enabledNS("").Labels}, want: true,
		},
		"a pod annotated disabled opts out": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "disabled")), ns: enabledNS("shop"),
			wantReason: "opts out with the annotation openservicemesh.io/sidecar-injection=disabled",
		},
		"a pod annotated false opts out": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "false")), ns: enabledNS("shop"),
			wantReason: "opts out",
		},
		"a pod annotated no opts out": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "no")), ns: enabledNS("shop"),
			wantReason: "opts out",
		},
		"a namespace without the label is not injected": {
			pod: appPod("shop"), ns: inject.Namespace{Name: "shop"},
			wantReason: `namespace "shop" is not labelled openservicemesh.io/sidecar-injection=enabled`,
		},
		"a namespace labelled disabled is not injected": {
			pod: appPod("shop"), ns: inject.Namespace{Name: "shop", Labels: map[string]string{bootstrap.InjectionLabel: "disabled"}},
			wantReason: `(its value is "disabled")`,
		},
		"an opt-in annotation does not override an unlabelled namespace": {
			pod: appPod("shop", annotated(bootstrap.InjectionAnnotation, "enabled")), ns: inject.Namespace{Name: "shop"},
			wantReason: "is not labelled",
		},
		"a hostNetwork pod is never injected": {
			pod:        appPod("shop", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
			ns:         enabledNS("shop"),
			wantReason: inject.ReasonHostNetwork,
		},
		"kube-system is never injected": {
			pod: appPod("kube-system"), ns: enabledNS("kube-system"), wantReason: "namespace kube-system are never injected",
		},
		"kube-public is never injected": {
			pod: appPod("kube-public"), ns: enabledNS("kube-public"), wantReason: "namespace kube-public are never injected",
		},
		"the control-plane namespace is never injected": {
			pod: appPod("mesh"), ns: enabledNS("mesh"), wantReason: "namespace mesh is the control plane's",
		},
		"a pod with our marker and envoy as a regular container is already injected": {
			pod: appPod("shop", marked, func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: inject.EnvoyContainerName})
			}),
			ns: enabledNS("shop"), wantReason: inject.ReasonAlreadyInjected,
		},
		"a pod with our marker and envoy as a native sidecar is already injected": {
			pod: appPod("shop", marked, func(p *corev1.Pod) {
				p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: inject.EnvoyContainerName})
			}),
			ns: enabledNS("shop"), wantReason: inject.ReasonAlreadyInjected,
		},
		"a user's container named envoy does not make the pod injected": {
			pod: appPod("shop", func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: inject.EnvoyContainerName})
			}),
			ns: enabledNS("shop"), want: true,
		},
		"our marker without the sidecar does not make the pod injected": {
			pod: appPod("shop", marked), ns: enabledNS("shop"), want: true,
		},
		"an injected pod with a bad annotation is still a no-op": {
			pod: appPod("shop", marked, annotated(bootstrap.InjectionAnnotation, "maybe"), func(p *corev1.Pod) {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: inject.EnvoyContainerName})
			}),
			ns: enabledNS("shop"), wantReason: inject.ReasonAlreadyInjected,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, reason, err := inject.Decide(tc.pod, tc.ns, "mesh")
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if got != tc.want {
				t.Errorf("Decide = %v (%s), want %v", got, reason, tc.want)
			}
			if !strings.Contains(reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", reason, tc.wantReason)
			}
			if got && reason != "" {
				t.Errorf("an injected pod has a reason: %q", reason)
			}
		})
	}
}

func TestDecideRefusesABadInjectionAnnotation(t *testing.T) {
	for _, v := range []string{"maybe", "", "enable", "1", "on"} {
		t.Run(v, func(t *testing.T) {
			_, _, err := inject.Decide(appPod("shop", annotated(bootstrap.InjectionAnnotation, v)), enabledNS("shop"), "")
			if err == nil {
				t.Fatal("Decide accepted the value")
			}
			want := `pod annotation openservicemesh.io/sidecar-injection: invalid value "` + v + `": must be one of enabled, true, yes (inject) or disabled, false, no (do not inject)`
			if err.Error() != want {
				t.Errorf("error = %q\nwant    %q", err, want)
			}
			var fe *bootstrap.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("not a *bootstrap.FieldError: %T", err)
			}
		})
	}
}

func TestDecideDefaultsTheControlPlaneNamespace(t *testing.T) {
	ok, reason, err := inject.Decide(appPod(bootstrap.DefaultNamespace), enabledNS(bootstrap.DefaultNamespace), "")
	if err != nil || ok || !strings.Contains(reason, "control plane") {
		t.Fatalf("Decide in osm-system = %v, %q, %v", ok, reason, err)
	}
}

func TestDecideNilPod(t *testing.T) {
	if _, _, err := inject.Decide(nil, enabledNS("shop"), ""); err == nil {
		t.Fatal("Decide(nil) gave no error")
	}
}

// marked gives a pod the injector's marker, the bootstrap-hash label.
func marked(p *corev1.Pod) {
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[bootstrap.BootstrapHashKey] = "0123456789"
}
