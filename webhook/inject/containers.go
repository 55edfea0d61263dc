package inject

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/osm-tracing/osm-tracing/bootstrap"
)

// Named ports of the envoy container (IANA service names, at most 15 characters). The admin
// port is not among them: it listens on 127.0.0.1 only.
const (
	PortNameOutbound = "proxy-outbound"
	PortNameInbound  = "proxy-inbound"
	PortNameHealth   = "proxy-health"
)

// bootstrapPath is where Envoy reads its bootstrap.
const bootstrapPath = bootstrap.EnvoyBootstrapDir + "/" + bootstrap.BootstrapKey

// iptablesScript is the init container's script. It installs the redirect in the pod's
// network namespace in one iptables-restore transaction:
//   - inbound: every TCP connection to the pod goes to Envoy's inbound listener (15003),
//     except to the health port (15021, the kubelet's probes reach Envoy directly) and the
//     admin port (15000, loopback only anyway);
//   - outbound: every TCP connection the pod opens goes to Envoy's outbound listener (15001),
//     except Envoy's own (uid 1500, or it would loop) and loopback traffic.
//
// It prefers the nf_tables backend, which needs only CAP_NET_ADMIN (the legacy backend opens
// a raw socket and would need CAP_NET_RAW too); images without it fall back to iptables-restore.
// Only IPv4 TCP is redirected: UDP (DNS) and IPv6 flow as they would without the sidecar.
const iptablesScript = `set -eu
restore=iptables-restore
if command -v iptables-nft-restore >/dev/null 2>&1; then restore=iptables-nft-restore; fi
"$restore" --noflush <<'RULES'
*nat
:PROXY_INBOUND - [0:0]
:PROXY_IN_REDIRECT - [0:0]
:PROXY_OUTPUT - [0:0]
:PROXY_REDIRECT - [0:0]
# Inbound: TCP to the pod goes to Envoy's inbound listener, but for the health and admin ports.
-A PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports ` + inboundPort + `
-A PROXY_INBOUND -p tcp --dport ` + healthPort + ` -j RETURN
-A PROXY_INBOUND -p tcp --dport ` + adminPort + ` -j RETURN
-A PROXY_INBOUND -p tcp -j PROXY_IN_REDIRECT
-A PREROUTING -p tcp -j PROXY_INBOUND
# Outbound: TCP from the pod goes to Envoy's outbound listener, but Envoy's own and loopback.
-A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports ` + outboundPort + `
-A PROXY_OUTPUT -m owner --uid-owner ` + envoyUID + ` -j RETURN
-A PROXY_OUTPUT -o lo -j RETURN
-A PROXY_OUTPUT -d 127.0.0.1/32 -j RETURN
-A PROXY_OUTPUT -j PROXY_REDIRECT
-A OUTPUT -p tcp -j PROXY_OUTPUT
COMMIT
RULES
echo "osm-init: traffic redirected to Envoy (inbound ` + inboundPort + `, outbound ` + outboundPort + `) with $restore"
`

// The numbers the script is written with.
const (
	inboundPort  = "15003"
	outboundPort = "15001"
	healthPort   = "15021"
	adminPort    = "15000"
	envoyUID     = "1500"
)

// Compile-time checks that the script's numbers are the bootstrap's.
var (
	_ = [1]struct{}{}[bootstrap.InboundPort-15003]
	_ = [1]struct{}{}[bootstrap.OutboundPort-15001]
	_ = [1]struct{}{}[bootstrap.HealthPort-15021]
	_ = [1]struct{}{}[bootstrap.AdminPort-15000]
	_ = [1]struct{}{}[bootstrap.EnvoyUID-1500]
)

// initContainer is osm-init: root with NET_ADMIN and nothing else, not privileged.
func initContainer(proxy ProxyConfig) corev1.Container {
	return corev1.Container{
		Name:                     InitContainerName,
		Image:                    proxy.InitImage,
		ImagePullPolicy:          corev1.PullIfNotPresent,
		Command:                  []string{"/bin/sh", "-c", iptablesScript},
		Resources:                *proxy.InitResources.DeepCopy(),
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			RunAsUser:                new(int64(0)),
			RunAsNonRoot:             new(false),
			Privileged:               new(false),
			AllowPrivilegeEscalation: new(false),
			Capabilities: &corev1.Capabilities{
				Add:  []corev1.Capability{"NET_ADMIN"},
				Drop: []corev1.Capability{"ALL"},
			},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// envoyContainer is the sidecar: non-root uid 1500 on a read-only root filesystem, no
// capabilities, reading the bootstrap from the ConfigMap. --service-node makes node.id
// <pod>.<namespace> (node.cluster, the service name spans carry, stays the bootstrap's);
// hot restart is off, a sidecar is restarted by the kubelet, not in place.
func envoyContainer(proxy ProxyConfig) corev1.Container {
	return corev1.Container{
		Name:            EnvoyContainerName,
		Image:           proxy.EnvoyImage,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{"envoy"},
		Args: []string{
			"-c", bootstrapPath,
			"--log-level", proxy.LogLevel,
			"--service-node", "$(POD_NAME).$(POD_NAMESPACE)",
			"--disable-hot-restart",
		},
		Env: []corev1.EnvVar{
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_NAMESPACE", "metadata.namespace"),
		},
		Ports: []corev1.ContainerPort{
			{Name: PortNameOutbound, ContainerPort: bootstrap.OutboundPort, Protocol: corev1.ProtocolTCP},
			{Name: PortNameInbound, ContainerPort: bootstrap.InboundPort, Protocol: corev1.ProtocolTCP},
			{Name: PortNameHealth, ContainerPort: bootstrap.HealthPort, Protocol: corev1.ProtocolTCP},
		},
		Resources: *proxy.Resources.DeepCopy(),
		VolumeMounts: []corev1.VolumeMount{{
			Name:      BootstrapVolumeName,
			MountPath: bootstrap.EnvoyBootstrapDir,
			ReadOnly:  true,
		}},
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
