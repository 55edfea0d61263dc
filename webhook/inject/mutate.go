package inject

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Mutate decides whether pod is injected and, if so, returns the injected copy and the
// bootstrap ConfigMap it mounts. The input pod is never modified.
//
// It is Decide, then Conflicts, then bootstrap.Resolve (the pod's owner from its owner
// references), ResolveTraffic and ResolveResources (the envoy container's resources), then
// bootstrap.Generate, bootstrap.ConfigMap (in the pod's namespace) and Inject. The errors a
// user can cause (a bad injection or tracing annotation, a bad MeshConfig value) are
// *bootstrap.FieldError trees with precise messages; a bad proxy config or a bootstrap the
// generator refuses is reported as such.
func Mutate(pod *corev1.Pod, ns Namespace, env Env) (Result, error) {
	return mutate(pod, ns, env, bootstrap.OwnerOf(pod))
}

// mutate is Mutate with the owner given: osm inject names a template's pods after the
// workload that holds the template.
func mutate(pod *corev1.Pod, ns Namespace, env Env, owner bootstrap.Workload) (Result, error) {
	env = env.withDefaults()
	inject, reason, err := Decide(pod, ns, env.ControlPlaneNamespace)
	if err != nil {
		return Result{}, err
	}
	if !inject {
		return Result{Skipped: true, Reason: reason, Pod: pod}, nil
	}
	if err := Conflicts(pod); err != nil {
		return Result{}, err
	}
	if err := env.Proxy.Validate(); err != nil {
		return Result{}, err
	}
	if err := env.checkServerVersion(); err != nil {
		return Result{}, err
	}
	namespace := namespaceOf(pod, ns)
	settings, err := bootstrap.Resolve(env.input(&pod.ObjectMeta, ns, owner, PodName(&pod.ObjectMeta)))
	traffic, trafficErr := ResolveTraffic(pod, ns, env.Proxy)
	resources, resourcesErr := ResolveResources(pod, ns, env.Proxy)
	if err != nil || trafficErr != nil || resourcesErr != nil {
		return Result{}, errors.Join(err, trafficErr, resourcesErr)
	}
	g, err := env.Generate(settings)
	if err != nil {
		return Result{}, &GenerateError{Service: settings.ServiceName, Err: err}
	}
	proxy := env.Proxy
	proxy.Resources = resources
	injected, added := injectParts(pod, g, proxy, traffic)
	return Result{
		Settings:  settings,
		Bootstrap: g,
		ConfigMap: bootstrap.ConfigMap(namespace, g),
		Pod:       injected,
		Added:     added,
	}, nil
}

// GenerateError is the generator's refusal of settings Resolve accepted: a gap between the
// two (Resolve is meant to refuse every value Envoy would), and not a passing fault, since
// the same settings fail on every retry. An error that carries a *bootstrap.FieldError
// still carries it (errors.As finds it through Unwrap).
type GenerateError struct {
	Service string
	Err     error
}

func (e *GenerateError) Error() string {
	return fmt.Sprintf("when generating the Envoy bootstrap of service %q: %v", e.Service, e.Err)
}

func (e *GenerateError) Unwrap() error { return e.Err }
