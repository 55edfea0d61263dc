package inject_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// FuzzMutate mutates pods with arbitrary names, labels and annotations. It must never panic;
// it either refuses the pod, skips it, or returns an injected pod whose ConfigMap has a valid
// name and a bootstrap that parses strictly and validates, and that Uninject turns back into
// the input.
func FuzzMutate(f *testing.F) {
	f.Add("web-1", "", "web", "true", "jaeger", "9411", "/api/v2/spans", "100", "", "enabled", "addr", "x", "5")
	f.Add("", "bookstore-v1-5d7f8c9b4-", "bookstore", "false", "10.0.0.1", "1", "/", "0", "bookstore", "", "", "", "")
	f.Add("x", "", "Über_App", "TRUE", "fd00::1", "65535", "/p?q", "12.5", "Bad", "maybe", "port", "0", "101")
	f.Fuzz(func(t *testing.T, name, generateName, app, enable, address, port, endpoint, sampling, service, injection, extraKey, extraValue, nsSampling string) {
		pod := appPod("shop", func(p *corev1.Pod) {
			p.Name, p.GenerateName = name, generateName
			p.Labels = map[string]string{"app": app}
		},
			annotated(bootstrap.AnnotationEnable, enable),
			annotated(bootstrap.AnnotationAddress, address),
			annotated(bootstrap.AnnotationPort, port),
			annotated(bootstrap.AnnotationEndpoint, endpoint),
			annotated(bootstrap.AnnotationSampling, sampling),
		)
		if service != "" {
			annotated(bootstrap.AnnotationServiceName, service)(pod)
		}
		if injection != "" {
			annotated(bootstrap.InjectionAnnotation, injection)(pod)
		}
		if extraKey != "" {
			annotated(bootstrap.AnnotationPrefix+extraKey, extraValue)(pod)
		}
		ns := enabledNS("shop")
		if nsSampling != "" {
			ns.Annotations = map[string]string{bootstrap.AnnotationSampling: nsSampling}
		}
		before := pod.DeepCopy()
		res, err := inject.Mutate(pod, ns, goldenEnv(meshOn))
		if !equality.Semantic.DeepEqual(before, pod) {
			t.Fatal("Mutate modified its input")
		}
		if err != nil || res.Skipped {
			return
		}
		if !inject.IsInjected(res.Pod) {
			t.Fatal("not injected")
		}
		if errs := validation.IsDNS1123Label(res.ConfigMap.Name); len(errs) > 0 {
			t.Fatalf("ConfigMap name %q: %v", res.ConfigMap.Name, errs)
		}
		if errs := validation.IsValidLabelValue(res.Pod.Labels[bootstrap.BootstrapHashKey]); len(errs) > 0 {
			t.Fatalf("hash label: %v", errs)
		}
		b, err := bootstrap.Parse([]byte(res.ConfigMap.Data[bootstrap.BootstrapKey]))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if err := bootstrap.Validate(b); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if b.GetNode().GetCluster() != res.Settings.ServiceName {
			t.Fatalf("node.cluster %q, service %q", b.GetNode().GetCluster(), res.Settings.ServiceName)
		}
		if back := inject.Uninject(res.Pod); !equality.Semantic.DeepEqual(back, pod) {
			t.Fatal("Uninject(Mutate(p).Pod) != p")
		}
	})
}
