package webhook

// Names of the objects and endpoints the injector serves and owns.
const (
	// ConfigurationName is the MutatingWebhookConfiguration the injector keeps current.
	ConfigurationName = "osm-injector"
	// WebhookName is the one webhook in it.
	WebhookName = "injector.openservicemesh.io"
	// ServiceName is the Service in front of the injector in the control-plane namespace.
	ServiceName = "osm-injector"
	// ServicePort is the port of that Service.
	ServicePort = 443
	// Path is where the Handler is served.
	Path = "/mutate-v1-pod"
	// FieldOwner is the server-side apply field manager of the injector.
	FieldOwner = "osm-injector"
)
