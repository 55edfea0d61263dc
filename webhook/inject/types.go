package inject

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/bootstrap/api/v1alpha2"
)

// Names of what Inject adds to a pod.
const (
	// EnvoyContainerName is the sidecar container.
	EnvoyContainerName = "envoy"
	// InitContainerName is the init container that sets up the iptables redirect.
	InitContainerName = "osm-init"
	// BootstrapVolumeName is the volume of the bootstrap ConfigMap, mounted at
	// bootstrap.EnvoyBootstrapDir.
	BootstrapVolumeName = "envoy-bootstrap"
	// RunVolumeName is the emptyDir osm-init prepares for envoy, mounted at RunDir.
	RunVolumeName = "osm-run"
)

// Default images: Envoy's official image of the go-control-plane release the bootstrap is
// built with, and osm-init's, which make image builds (cmd/osm-init; manifests.DefaultInitImage
// names it for the chart's appVersion, and a test holds the two equal).
const (
	DefaultEnvoyImage = "envoyproxy/envoy:v1.37.0"
	DefaultInitImage  = "ghcr.io/osm-tracing/osm-init:0.1.0"
	DefaultLogLevel   = "info"
)

// ProxyConfig is what the chart decides about the injected containers. Empty images and log
// level take the defaults (DefaultProxyConfig); empty resources mean none.
type ProxyConfig struct {
	EnvoyImage    string
	InitImage     string
	LogLevel      string
	Resources     corev1.ResourceRequirements
	InitResources corev1.ResourceRequirements
	// Concurrency is Envoy's worker threads unless a pod or namespace annotation says
	// otherwise; zero means DefaultConcurrency.
	Concurrency int
	// The mesh-wide redirect exclusions (chart values); annotations add to them.
	OutboundPortExclusions []uint16
	InboundPortExclusions  []uint16
	OutboundIPExclusions   []netip.Prefix
	OutboundIPInclusions   []netip.Prefix
}

// DefaultProxyConfig is the chart's default: the default images, log level info, and modest
// resources. Envoy gets no CPU limit, so that throttling never adds latency to every request.
func DefaultProxyConfig() ProxyConfig {
	return ProxyConfig{
		EnvoyImage: DefaultEnvoyImage,
		InitImage:  DefaultInitImage,
		LogLevel:   DefaultLogLevel,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("50m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceMemory: resource.MustParse("512Mi"),
			},
		},
		InitResources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("10m"),
				corev1.ResourceMemory: resource.MustParse("16Mi"),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			},
		},
	}
}

// envoyLogLevels are the values of Envoy's --log-level.
var envoyLogLevels = []string{"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}

// Validate reports a log level Envoy does not know, and a concurrency out of range. Images
// are not checked: the container runtime is the judge of an image reference.
func (p ProxyConfig) Validate() error {
	p = p.withDefaults()
	if p.Concurrency < 1 || p.Concurrency > maxConcurrency {
		return fmt.Errorf("proxy concurrency %d: %s", p.Concurrency, acceptedConcurrency)
	}
	for _, l := range envoyLogLevels {
		if p.LogLevel == l {
			return nil
		}
	}
	return fmt.Errorf("proxy log level %q: must be one of %v", p.LogLevel, envoyLogLevels)
}

// withDefaults fills the empty images and log level.
func (p ProxyConfig) withDefaults() ProxyConfig {
	if p.EnvoyImage == "" {
		p.EnvoyImage = DefaultEnvoyImage
	}
	if p.InitImage == "" {
		p.InitImage = DefaultInitImage
	}
	if p.LogLevel == "" {
		p.LogLevel = DefaultLogLevel
	}
	if p.Concurrency == 0 {
		p.Concurrency = DefaultConcurrency
	}
	return p
}

// Env is the cluster-wide input of a mutation: where the control plane lives, the defaults,
// the MeshConfig's observability spec, the proxy config. An empty ControlPlaneNamespace means
// bootstrap.DefaultNamespace; zero Defaults mean bootstrap.Defaults(ControlPlaneNamespace).
type Env struct {
	ControlPlaneNamespace string
	Defaults              bootstrap.Tracing
	Mesh                  *v1alpha2.ObservabilitySpec
	Proxy                 ProxyConfig
	// ServerVersion is the API server's version (as discovery reports it, v1.31.2); pods
	// are refused with an *UnsupportedClusterError on clusters older than
	// 1.MinKubernetesMinor. Empty means unknown: osm inject, which writes manifests for any
	// cluster, does not check.
	ServerVersion string
	// Generate builds the bootstrap of settings; nil means bootstrap.Generate. The webhook
	// passes a bootstrap.Cache's Generate so repeated settings cost a look-up.
	Generate func(bootstrap.Settings) (bootstrap.Generated, error)
}

// withDefaults fills the empty control-plane namespace and defaults.
func (e Env) withDefaults() Env {
	if e.ControlPlaneNamespace == "" {
		e.ControlPlaneNamespace = bootstrap.DefaultNamespace
	}
	if e.Defaults == (bootstrap.Tracing{}) {
		e.Defaults = bootstrap.Defaults(e.ControlPlaneNamespace)
	}
	if e.Generate == nil {
		e.Generate = bootstrap.Generate
	}
	return e
}

// Namespace is what the injector needs to know of the pod's namespace.
type Namespace struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
}

// Result of Mutate. When Skipped, Pod is the input unchanged and Reason says why.
type Result struct {
	Skipped   bool
	Reason    string
	Settings  bootstrap.Settings
	Bootstrap bootstrap.Generated
	ConfigMap *corev1.ConfigMap
	Pod       *corev1.Pod
	// Added is what Inject added to make Pod (Parts): the admission webhook's patch appends
	// exactly these. A volume or label of the input with the name of one of them was replaced
	// (Decide refuses pods with the sidecar's containers). Its containers and volume are the
	// ones in Pod, so their pointer fields are shared: deep-copy before changing either.
	// Zero when Skipped.
	Added Additions
}
