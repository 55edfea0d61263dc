package app

import (
	"github.com/spf13/pflag"

	"github.com/osm-tracing/osm-tracing/webhook/certs"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

// failurePolicyHelp is printed by --help: the default is a decision, and users should know why.
const failurePolicyHelp = "failurePolicy of the MutatingWebhookConfiguration: Ignore or Fail. " +
	"Default Ignore: tracing is observability, so an injector outage must not block every deployment " +
	"in the labelled namespaces; pods admitted meanwhile run without the sidecar (the injector answers " +
	"its own internal errors the same way) and 'osm tracing check' reports them. " +
	"Fail refuses such pods instead (and internal errors are answered 500)"

// BindFlags adds the injector's flags to fs, with o's values as defaults.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"kubeconfig file; empty means the in-cluster configuration (or $KUBECONFIG)")
	fs.StringVar(&o.Namespace, "osm-namespace", o.Namespace,
		"control-plane namespace: the MeshConfig, the webhook Service and certificate Secret, the leader-election Lease")
	fs.StringVar(&o.MeshConfigName, "mesh-config-name", o.MeshConfigName, "name of the MeshConfig the injector follows")
	fs.StringVar(&o.MeshName, "mesh-name", o.MeshName, "name of the mesh (recorded on the objects the injector owns)")

	fs.StringVar(&o.WebhookHost, "webhook-host", o.WebhookHost, "address the webhook server binds to")
	fs.IntVar(&o.WebhookPort, "webhook-port", o.WebhookPort, "HTTPS port of the webhook server")
	fs.StringVar(&o.WebhookURL, "webhook-url", o.WebhookURL,
		"base URL (https://host:port) the API server calls instead of the Service osm-injector, for an injector "+
			"running outside the cluster; /mutate-v1-pod is appended")
	fs.StringVar(&o.FailurePolicy, "webhook-failure-policy", o.FailurePolicy, failurePolicyHelp)
	fs.IntVar(&o.TimeoutSeconds, "webhook-timeout-seconds", o.TimeoutSeconds,
		"timeoutSeconds of the MutatingWebhookConfiguration (1 to 30)")
	fs.BoolVar(&o.CreateWebhookConfiguration, "create-webhook-configuration", o.CreateWebhookConfiguration,
		"create the MutatingWebhookConfiguration when there is none at start; false (as the chart runs it) only "+
			"patches the one the chart creates. Either way a configuration that existed and was deleted (an "+
			"uninstall) is not brought back")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", o.ShutdownDelay,
		"on SIGTERM, keep serving admissions this long with /readyz failing, so that endpoints and kube-proxy "+
			"stop sending new ones, before draining and exiting; 0 stops at once")
	fs.DurationVar(&o.GracefulShutdownTimeout, "graceful-shutdown-timeout", o.GracefulShutdownTimeout,
		"after --shutdown-delay, how long in-flight admissions and the controllers get to finish")

	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress,
		"address of the Prometheus metrics endpoint; 0 disables it")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress,
		"address of /healthz and /readyz; 0 disables them")
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress,
		"address of Go's /debug/pprof profiles (for example 127.0.0.1:6060, reached with kubectl port-forward); "+
			"empty or 0 disables them")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect,
		"elect a leader for the controllers (Lease osm-injector in the control-plane namespace); the webhook serves on every replica")

	fs.IntVar(&o.MaxConcurrentRollouts, "max-concurrent-rollouts", o.MaxConcurrentRollouts,
		"how many workloads the re-bootstrap controller rolls at once")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS,
		"queries per second the injector's clients may send to the API server")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst,
		"burst of requests the injector's clients may send to the API server above --kube-api-qps")
	fs.DurationVar(&o.ConfigMapGCGrace, "configmap-gc-grace", o.ConfigMapGCGrace,
		"how long a bootstrap ConfigMap no pod references is kept before it is deleted")

	fs.StringVar(&o.EnvoyImage, "envoy-image", o.EnvoyImage, "image of the injected envoy container")
	fs.StringVar(&o.InitImage, "init-image", o.InitImage, "image of the injected osm-init container")
	fs.StringVar(&o.EnvoyResources, "envoy-resources", o.EnvoyResources,
		`resources of the injected envoy container as JSON, e.g. {"requests":{"cpu":"50m","memory":"64Mi"},"limits":{"memory":"512Mi"}}; `+
			"empty means the built-in defaults (those values)")
	fs.StringVar(&o.InitResources, "init-resources", o.InitResources,
		`resources of the injected osm-init container as JSON (as --envoy-resources); empty means the built-in defaults `+
			`({"requests":{"cpu":"10m","memory":"16Mi"},"limits":{"cpu":"100m","memory":"64Mi"}})`)
	fs.StringVar(&o.EnvoyLogLevel, "envoy-log-level", o.EnvoyLogLevel,
		"Envoy's log level: trace, debug, info, warning, error, critical or off")
	fs.IntVar(&o.EnvoyConcurrency, "envoy-concurrency", o.EnvoyConcurrency,
		"Envoy's worker threads in every injected sidecar, 1 to 64; the annotation "+inject.AnnotationProxyConcurrency+
			" of a pod or its namespace overrides it")
	fs.StringVar(&o.OutboundPortExclusionList, "outbound-port-exclusion-list", o.OutboundPortExclusionList,
		"comma-separated destination ports (1 to 65535, such as 3306,6379) that injected pods reach directly, "+
			"not through Envoy; the annotation "+inject.AnnotationOutboundPortExclusions+" of a pod or its namespace adds to them")
	fs.StringVar(&o.InboundPortExclusionList, "inbound-port-exclusion-list", o.InboundPortExclusionList,
		"comma-separated ports (1 to 65535) of injected pods that are reached directly, not through Envoy; the "+
			"annotation "+inject.AnnotationInboundPortExclusions+" of a pod or its namespace adds to them (the ports "+
			"of tcpSocket probes are always left out)")
	fs.StringVar(&o.OutboundIPRangeExclusionList, "outbound-ip-range-exclusion-list", o.OutboundIPRangeExclusionList,
		"comma-separated CIDRs, IPv4 or IPv6 (such as 10.0.0.0/8,fd00::/8), that injected pods reach directly, "+
			"not through Envoy; the annotation "+inject.AnnotationOutboundIPExclusions+" of a pod or its namespace adds to them")
	fs.StringVar(&o.OutboundIPRangeInclusionList, "outbound-ip-range-inclusion-list", o.OutboundIPRangeInclusionList,
		"comma-separated CIDRs: when set, only connections to these ranges go through Envoy (the exclusions still "+
			"apply); the annotation "+inject.AnnotationOutboundIPInclusions+" of a pod or its namespace adds to them")
	fs.DurationVar(&o.CertValidity, "cert-validity", o.CertValidity,
		"lifetime of the webhook's serving certificate; it is renewed when a third of it is left (certificate provider self)")
	fs.StringVar(&o.CertProviderKind, "certificate-provider", o.CertProviderKind,
		"who issues the webhook's serving certificate: self (the injector's own CA, kept in Secret osm-injector-tls) or "+
			"cert-manager (a cert-manager Certificate; give --cert-secret-name or --cert-dir; cert-manager's cainjector "+
			"writes the caBundle)")
	fs.StringVar(&o.CertSecretName, "cert-secret-name", o.CertSecretName,
		"cert-manager: the Certificate's Secret in the control-plane namespace, watched through the API (renewals are "+
			"served at once; the injector is not ready while the Secret is missing)")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir,
		"cert-manager: a folder with tls.crt and tls.key, such as the Certificate's Secret mounted at "+certs.DefaultCertDir+
			" (reloaded when the kubelet updates it)")
	fs.StringVar(&o.CertManagerCertificate, "cert-manager-certificate", o.CertManagerCertificate,
		"cert-manager: the Certificate in the control-plane namespace named by the webhook configuration's "+
			"cert-manager.io/inject-ca-from annotation")
}
