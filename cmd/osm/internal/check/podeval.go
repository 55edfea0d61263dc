package check

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// PodInput is what EvaluatePod compares: the pod, its namespace's annotations, the mesh-wide
// tracing settings and the bootstrap the pod mounts.
type PodInput struct {
	Pod                  *corev1.Pod
	NamespaceAnnotations map[string]string
	ControlPlane         string
	Mesh                 *v1alpha2.ObservabilitySpec
	// BootstrapYAML is the pod's ConfigMap's bootstrap.yaml; BootstrapErr says why it could
	// not be read.
	BootstrapYAML []byte
	BootstrapErr  error
}

// PodVerdict is what EvaluatePod found.
type PodVerdict struct {
	Status Status
	// Message describes the pod's bootstrap (or what is wrong with it).
	Message string
	// Stale is set when the bootstrap differs from what the pod would get now.
	Stale bool
	// Outdated is set when the core's inject.PodStanding says the pod is outdated rather than
	// stale: it carries the settings hash of the settings it would get now, or no settings
	// hash at all (an injector older than the label admitted it), as the re-bootstrap
	// controller counts it. Its differences, if any, are listed in the message.
	Outdated bool
	// Settings are what the pod should run now.
	Settings bootstrap.Settings
}

// EvaluatePod checks a pod's bootstrap against the one the core generates for it now
// (bootstrap.Resolve and bootstrap.Generate with the MeshConfig and the namespace's and pod's
// annotations, as the webhook does): both are read with the core's parser and their tracing
// facts compared (Diff), whatever the protocol, then their hashes.
func EvaluatePod(in PodInput) PodVerdict {
	if in.BootstrapErr != nil {
		return PodVerdict{Status: Fail, Message: in.BootstrapErr.Error()}
	}
	pod := in.Pod
	env := inject.Env{ControlPlaneNamespace: in.ControlPlane, Mesh: in.Mesh}
	settings, err := bootstrap.Resolve(env.PodInput(pod, inject.Namespace{Name: pod.Namespace, Annotations: in.NamespaceAnnotations}))
	if err != nil {
		return PodVerdict{Status: Fail, Message: "its tracing settings are invalid now: " + oneLine(err)}
	}
	want, err := bootstrap.Generate(settings)
	if err != nil {
		return PodVerdict{Status: Fail, Message: "cannot compute its expected bootstrap: " + oneLine(err), Settings: settings}
	}
	expected, err := ReadFacts(want.YAML)
	if err != nil {
		return PodVerdict{Status: Fail, Message: "cannot read its expected bootstrap: " + oneLine(err), Settings: settings}
	}
	facts, err := ReadFacts(in.BootstrapYAML)
	if err != nil {
		return PodVerdict{Status: Fail, Message: "its bootstrap does not parse: " + oneLine(err), Settings: settings}
	}
	v := PodVerdict{Settings: settings}
	have := bootstrap.Hash(in.BootstrapYAML)
	problems := Diff(facts, expected)
	// Where the pod stands is the core's rule, the controller's too (inject.PodStanding), on
	// the hash of the bootstrap it mounts and its settings label.
	run := inject.PodRun{Hash: have, Settings: pod.Labels[bootstrap.SettingsHashKey]}
	standing := inject.PodStanding(run, want.Hash, bootstrap.SettingsHash(settings))
	v.Stale = standing != inject.StandingCurrent
	// Outdated is the standing; the status is the facts': a pod without the settings label
	// whose tracing demonstrably differs from what it should run fails, and the message says
	// it is outdated (what the controller will and will not do with it).
	v.Outdated = standing == inject.StandingOutdated
	switch {
	case len(problems) > 0 && standing == inject.StandingOutdated && run.Settings == "":
		v.Status, v.Message = Fail, strings.Join(problems, "; ")
		v.Message += fmt.Sprintf(" (bootstrap hash %s, expected %s; the pod has no %s label: an older osm-injector admitted "+
			"it, so the re-bootstrap controller counts it as outdated and rolls it only on request)", have, want.Hash, bootstrap.SettingsHashKey)
	case len(problems) > 0 && standing != inject.StandingOutdated:
		v.Status, v.Message = Fail, strings.Join(problems, "; ")
		if v.Stale {
			v.Message += fmt.Sprintf(" (stale bootstrap: hash %s, expected %s)", have, want.Hash)
		}
	case standing == inject.StandingOutdated:
		v.Status = Warn
		if run.Settings == "" {
			v.Message = fmt.Sprintf("outdated bootstrap: it runs hash %s and has no %s label (an older osm-injector "+
				"admitted it, so what settings it runs cannot be told; the re-bootstrap controller counts it as outdated and "+
				"rolls it only on request); this version renders %s", have, bootstrap.SettingsHashKey, want.Hash)
		} else {
			v.Message = fmt.Sprintf("outdated bootstrap: it runs hash %s, rendered from the same tracing settings by another "+
				"osm-injector version; this version renders %s", have, want.Hash)
		}
		if len(problems) > 0 {
			v.Message += " (which differs: " + strings.Join(problems, "; ") + ")"
		}
	case v.Stale:
		v.Status = Fail
		v.Message = fmt.Sprintf("stale bootstrap: it runs hash %s, but the MeshConfig and annotations now give %s", have, want.Hash)
	case !settings.Tracing.Enable && in.Mesh != nil && in.Mesh.Tracing.Enable != nil && *in.Mesh.Tracing.Enable:
		v.Status, v.Message = Warn, "tracing is turned off for this pod by a "+bootstrap.AnnotationEnable+" annotation (pod or namespace)"
	case !settings.Tracing.Enable:
		v.Status, v.Message = Pass, "current bootstrap (hash "+have+"), tracing disabled; "+facts.Observability()
	default:
		v.Status = Pass
		v.Message = fmt.Sprintf("current bootstrap (hash %s) with %s; %s", have, facts.Describe(), facts.Observability())
	}
	return v
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
