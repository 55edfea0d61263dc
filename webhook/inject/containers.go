package inject

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/redirect"
)

// Named ports of the envoy container (IANA service names, at most 15 characters). The admin
// port is not among them: it listens on 127.0.0.1 only. PortNamePrometheus is Istio's name
// of the same port, which PodMonitors and dashboards written for Istio select by.
const (
	PortNameOutbound   = "proxy-outbound"
	PortNameInbound    = "proxy-inbound"
	PortNameHealth     = "proxy-health"
	PortNamePrometheus = "http-envoy-prom"
)

// RunDir is where osm-init and envoy mount the run volume (RunVolumeName): osm-init leaves
// there its own binary, for envoy's preStop hook, and the link to the bootstrap rendering
// Envoy reads (see redirect.RunDirFlag).
const RunDir = "/var/run/osm"

// InitCommand is osm-init's entrypoint in its image (cmd/osm-init, built by make image).
const InitCommand = "/osm-init"

// initContainer is osm-init, our own program (cmd/osm-init): it sends the redirect of t to
// the kernel as nftables rules over netlink, both address families in one transaction, and
// exits; a failure names its cause in the pod's status (the termination message). Its
// command line is t's redirect.Spec, which it parses as strictly as it is written here.
//
// uid 0 with CAP_NET_ADMIN and nothing else, not privileged: netlink needs only that
// capability (the iptables images once needed CAP_NET_RAW too). Root because Kubernetes
// cannot give a non-root process a capability: it has no ambient capabilities to set, and
// allowPrivilegeEscalation false (no_new_privs) keeps file capabilities from applying. Istio's
// istio-init and Linkerd's proxy-init run as root with the same capability for the same
// reason; the image's own user is non-root, so it runs as root only where the pod says so.
func initContainer(proxy ProxyConfig, t Traffic) corev1.Container {
	return corev1.Container{
		Name:                     InitContainerName,
		Image:                    proxy.InitImage,
		ImagePullPolicy:          corev1.PullIfNotPresent,
		Command:                  []string{InitCommand},
		Args:                     initArgs(t),
		VolumeMounts:             []corev1.VolumeMount{{Name: RunVolumeName, MountPath: RunDir}},
		Resources:                *proxy.InitResources.DeepCopy(),
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			RunAsUser:                new(int64(0)),
			RunAsNonRoot:             new(false),
			Privileged:               new(false),
			AllowPrivilegeEscalation: new(false),
			ReadOnlyRootFilesystem:   new(true),
			Capabilities: &corev1.Capabilities{
				Add:  []corev1.Capability{"NET_ADMIN"},
				Drop: []corev1.Capability{"ALL"},
			},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// initArgs is osm-init's command line: t's redirect, then where to leave the drain binary
// and the bootstrap link.
func initArgs(t Traffic) []string {
	return append(t.Redirect().Args(),
		redirect.RunDirFlag+"="+RunDir,
		redirect.BootstrapDirFlag+"="+bootstrap.EnvoyBootstrapDir)
}

// envoyContainer is the sidecar: a native sidecar (an init container with restartPolicy
// Always, after osm-init), non-root uid 1500 on a read-only root filesystem, no
// capabilities, reading the bootstrap from the ConfigMap.
//
// Native, in every pod (Kubernetes 1.29 or later): the kubelet starts the app's containers
// only once Envoy's startup probe passes, so the app's first outbound connections find the
// outbound listener up, and at termination it stops Envoy only after every app container has
// exited, so requests in flight are not reset. As a regular container Envoy could start after
// the app and exit before it (Istio's holdApplicationUntilProxyStarts and its preStop hooks
// work around exactly that); a Job's pod would never complete.
//
// Its preStop hook drains it (`osm-init drain`, osm-init's copy of itself in the run
// volume): the kubelet runs a native sidecar's preStop as soon as the pod starts terminating,
// beside the app's own, although it sends the sidecar SIGTERM only after the app exited.
// The drain fails Envoy's health checks (POST /healthcheck/fail on the admin interface),
// which makes Envoy close each caller's connection after its next response (config checked by
// bootstrap's rules; the real node shows the hook's timing, not Envoy's reaction) instead of
// keeping it for the next request, and holds Envoy up for redirect.DrainHold; see the
// bootstrap's listeners for what drains and the callers' retries for what a request meets
// if the app is already gone. Envoy itself exits at once on SIGTERM, without a drain. Istio's
// native sidecar has the same hook (pilot-agent's drain); Linkerd's proxy drains itself on
// SIGTERM, which Envoy does not.
//
// Envoy reads the bootstrap through the run volume's link, which osm-init points at the
// ConfigMap's dual-stack rendering, or at the IPv4 one on a node whose kernel has no IPv6
// (where binding [::] would make Envoy exit, and the pod never start).
//
// --service-node makes node.id <pod>.<namespace> (node.cluster, the service name spans
// carry, stays the bootstrap's); hot restart is off, a sidecar is restarted by the kubelet,
// not in place; --concurrency bounds the worker threads (Envoy's default is one per hardware
// thread of the node, dozens on a large node, in every pod).
func envoyContainer(proxy ProxyConfig, t Traffic) corev1.Container {
	concurrency := t.Concurrency
	if concurrency < 1 {
		concurrency = DefaultConcurrency
	}
	return corev1.Container{
		Name:            EnvoyContainerName,
		Image:           proxy.EnvoyImage,
		ImagePullPolicy: corev1.PullIfNotPresent,
		RestartPolicy:   new(corev1.ContainerRestartPolicyAlways),
		Command:         []string{"envoy"},
		Args: []string{
			"-c", redirect.BootstrapLink(RunDir),
			"--log-level", proxy.LogLevel,
			"--service-node", "$(POD_NAME).$(POD_NAMESPACE)",
			"--disable-hot-restart",
			"--concurrency", strconv.Itoa(concurrency),
		},
		Env: []corev1.EnvVar{
			// The span tags read these (bootstrap.TagPodName and the rest).
			fieldEnv(bootstrap.EnvPodName, "metadata.name"),
			fieldEnv(bootstrap.EnvPodNamespace, "metadata.namespace"),
			fieldEnv(bootstrap.EnvNodeName, "spec.nodeName"),
			// OpenTelemetry's resource attributes, for the OpenTelemetry tracer's environment
			// detector (Zipkin's tracer ignores it, so it is always set): $(POD_NAME) and the
			// rest. After them: Kubernetes expands a $(VAR) only from the variables defined
			// earlier in the list.
			{Name: bootstrap.EnvResourceAttributes, Value: bootstrap.ResourceAttributesValue()},
		},
		Ports: []corev1.ContainerPort{
			{Name: PortNameOutbound, ContainerPort: bootstrap.OutboundPort, Protocol: corev1.ProtocolTCP},
			{Name: PortNameInbound, ContainerPort: bootstrap.InboundPort, Protocol: corev1.ProtocolTCP},
			{Name: PortNameHealth, ContainerPort: bootstrap.HealthPort, Protocol: corev1.ProtocolTCP},
			{Name: PortNamePrometheus, ContainerPort: bootstrap.PrometheusPort, Protocol: corev1.ProtocolTCP},
		},
		Resources: *proxy.Resources.DeepCopy(),
		VolumeMounts: []corev1.VolumeMount{
			{Name: BootstrapVolumeName, MountPath: bootstrap.EnvoyBootstrapDir, ReadOnly: true},
			{Name: RunVolumeName, MountPath: RunDir, ReadOnly: true},
		},
		Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
			Command: []string{redirect.BinaryPath(RunDir), redirect.DrainCommand},
		}}},
		// Envoy answers /healthz/ready on the health port once its listeners are up. It starts
		// in well under a second with a static bootstrap; the startup probe allows a minute,
		// then a minute of failing readiness means a hung Envoy and the kubelet restarts it.
		StartupProbe:             healthProbe(1, 60),
		ReadinessProbe:           healthProbe(5, 3),
		LivenessProbe:            healthProbe(10, 6),
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			RunAsUser:                new(int64(bootstrap.EnvoyUID)),
			RunAsGroup:               new(int64(bootstrap.EnvoyUID)),
			RunAsNonRoot:             new(true),
			ReadOnlyRootFilesystem:   new(true),
			Privileged:               new(false),
			AllowPrivilegeEscalation: new(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// healthProbe is a GET of /healthz/ready on the health port, with every field the API server
// would default set, so that an injected pod reads back exactly as it was written.
func healthProbe(periodSeconds, failureThreshold int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   bootstrap.HealthReadyPath,
			Port:   intstr.FromInt32(bootstrap.HealthPort),
			Scheme: corev1.URISchemeHTTP,
		}},
		TimeoutSeconds:   1,
		PeriodSeconds:    periodSeconds,
		SuccessThreshold: 1,
		FailureThreshold: failureThreshold,
	}
}

// fieldEnv is an environment variable from the downward API.
func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path},
	}}
}

// runVolume is the run volume: a small emptyDir on the node's disk (osm-init's binary and a
// link), so it counts against no memory limit.
func runVolume() corev1.Volume {
	return corev1.Volume{Name: RunVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// bootstrapVolume is the bootstrap ConfigMap as a volume (mode 0644, the API's default).
func bootstrapVolume(g bootstrap.Generated) corev1.Volume {
	return corev1.Volume{
		Name: BootstrapVolumeName,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: bootstrap.ConfigMapName(g.Settings.ServiceName, g.Hash)},
			DefaultMode:          new(corev1.ConfigMapVolumeSourceDefaultMode),
		}},
	}
}
