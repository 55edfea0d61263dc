package testimages

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/osm-tracing/osm-tracing/hack/ociarchive"
)

// Registry is the fake registry of the test images: nothing is ever pulled from it (the
// images are imported, and pods use imagePullPolicy Never or IfNotPresent); .test is a
// reserved top-level domain, so the name can never reach a real registry.
const Registry = "osm-tracing.test"

// The images' references.
const (
	// PauseImage is the sandbox image, pinned as containerd's sandbox_image.
	PauseImage = Registry + "/pause:v1"
	// EnvoyStandInImage is the Envoy stand-in (e2e/envoystandin), for the chart's
	// osm.sidecarImage (the injector's envoy image).
	EnvoyStandInImage = Registry + "/envoy-standin:v1"
	// TestAppImage is the test application (e2e/testapp).
	TestAppImage = Registry + "/testapp:v1"
	// InitImage is osm-init (cmd/osm-init), for the chart's osm.init.image: the binary `make
	// image` puts in ghcr.io/osm-tracing/osm-init, in an image made the same way (the binary
	// alone at /osm-init, user 65532:65532).
	InitImage = Registry + "/osm-init:v1"
	// JaegerImage is exactly the chart's default osm.jaeger.image, so that
	// `osm install --set=osm.deployJaeger=true` runs it unmodified; built from the Jaeger
	// binary hack/testbin.sh compiles from the same release's source.
	JaegerImage = "jaegertracing/jaeger:2.13.0"
)

// Where each program is in its image.
const (
	PausePath   = "/pause"
	EnvoyPath   = "/usr/local/bin/envoy"
	TestAppPath = "/testapp"
	InitPath    = "/osm-init"
	JaegerPath  = "/cmd/jaeger/jaeger-linux" // where the upstream image has it
)

// The images' users, numeric so that the kubelet can check runAsNonRoot without an
// /etc/passwd. The envoy user is the sidecar's (bootstrap.EnvoyUID), whose traffic the
// redirect lets through; the test app must not be it.
const (
	PauseUser   = "65535:65535"
	EnvoyUser   = "1500:1500"
	TestAppUser = "65532:65532"
	// InitUser is osm-init's image's user, as in the image `make image` builds; the injected
	// container runs it as uid 0 with NET_ADMIN alone.
	InitUser   = "65532:65532"
	JaegerUser = "10001" // the upstream image's USER, and the chart's runAsUser
)

// JaegerModuleVersion is the version of the Go module github.com/jaegertracing/jaeger whose
// release is JaegerImage's tag (v1.76.0 is Jaeger 2.13.0); the Jaeger binary must have been
// built from it. Keep it in step with hack/testbin.sh and e2e/framework.JaegerVersion.
const JaegerModuleVersion = "v1.76.0"

// JaegerModule is the module the Jaeger binary is built from.
const JaegerModule = "github.com/jaegertracing/jaeger"

const (
	source = "https://github.com/osm-tracing/osm-tracing"
	// defaultPath is the usual PATH, for images with several programs.
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Go packages of the images' programs.
const (
	pausePackage   = "github.com/osm-tracing/osm-tracing/e2e/testimages/pause"
	envoyPackage   = "github.com/osm-tracing/osm-tracing/e2e/envoystandin/cmd/envoy-standin"
	testAppPackage = "github.com/osm-tracing/osm-tracing/e2e/testapp"
	initPackage    = "github.com/osm-tracing/osm-tracing/cmd/osm-init"
)

// image is how one image is made.
type image struct {
	ref  string
	file string // the archive's name in Options.OutDir
	// program is the Go package compiled for it, if any.
	program string
	// entries are the layer's files; bin is the compiled program (empty when none).
	entries func(o Options, bin string) ([]ociarchive.Entry, error)
	config  v1.Config
}

// images are all the images, in the order Build writes them.
func images() []image {
	return []image{
		{
			ref: PauseImage, file: "pause-v1.oci.tar", program: pausePackage,
			entries: func(_ Options, bin string) ([]ociarchive.Entry, error) { return programEntries(bin, PausePath, false) },
			config: v1.Config{Entrypoint: []string{PausePath}, User: PauseUser, WorkingDir: "/",
				Labels: labels("pause", "Sandbox (pause) container of osm-tracing's real-node tests: waits for SIGTERM")},
		},
		{
			ref: EnvoyStandInImage, file: "envoy-standin-v1.oci.tar", program: envoyPackage,
			entries: func(_ Options, bin string) ([]ociarchive.Entry, error) {
				es, err := programEntries(bin, EnvoyPath, true)
				// The bootstrap ConfigMap is mounted here; the folder lets a read-only root
				// file system take the mount without creating anything.
				return append(es, ociarchive.Dir("etc/", 0o755), ociarchive.Dir("etc/envoy/", 0o755)), err
			},
			config: v1.Config{Entrypoint: []string{EnvoyPath}, Cmd: []string{"-c", "/etc/envoy/bootstrap.yaml"},
				User: EnvoyUser, WorkingDir: "/", Env: []string{defaultPath},
				Labels: labels("envoy-standin", "STAND-IN for Envoy in osm-tracing's real-node tests (not Envoy): relays redirected "+
					"connections to their original destination and reports each HTTP/1.x request as a Zipkin span")},
		},
		{
			ref: TestAppImage, file: "testapp-v1.oci.tar", program: testAppPackage,
			entries: func(_ Options, bin string) ([]ociarchive.Entry, error) { return programEntries(bin, TestAppPath, true) },
			// PATH=/ lets `kubectl exec POD -- testapp get URL` find it by name.
			config: v1.Config{Entrypoint: []string{TestAppPath}, Cmd: []string{"serve", "--port", "8080"},
				User: TestAppUser, WorkingDir: "/", Env: []string{"PATH=/"},
				Labels: labels("testapp", "Test application of osm-tracing's real-node tests: HTTP and TCP server and clients")},
		},
		{
			ref: InitImage, file: "osm-init-v1.oci.tar", program: initPackage,
			entries: func(_ Options, bin string) ([]ociarchive.Entry, error) { return programEntries(bin, InitPath, false) },
			config: v1.Config{Entrypoint: []string{InitPath}, User: InitUser, WorkingDir: "/",
				Labels: labels("osm-init", "osm-init built from this checkout for osm-tracing's real-node tests: "+
					"installs a pod's traffic redirect to Envoy (nftables, over netlink)")},
		},
		{
			ref: JaegerImage, file: "jaeger-2.13.0.oci.tar",
			entries: func(o Options, _ string) ([]ociarchive.Entry, error) { return jaegerEntries(o) },
			config: v1.Config{Entrypoint: []string{JaegerPath}, User: JaegerUser, WorkingDir: "/",
				// The upstream image sets it too: the default configuration listens on
				// ${JAEGER_LISTEN_HOST:-localhost}, which a pod's probes cannot reach.
				Env:          []string{"JAEGER_LISTEN_HOST=0.0.0.0"},
				ExposedPorts: map[string]struct{}{"4317/tcp": {}, "4318/tcp": {}, "9411/tcp": {}, "16686/tcp": {}},
				Labels: map[string]string{
					"org.opencontainers.image.title": "jaeger",
					"org.opencontainers.image.description": "Jaeger 2.13.0 (Go module " + JaegerModule + " " + JaegerModuleVersion +
						") BUILT FROM SOURCE by osm-tracing's hack/testbin.sh for its tests; not the upstream image",
					"org.opencontainers.image.version": "2.13.0",
					"org.opencontainers.image.source":  "https://github.com/jaegertracing/jaeger",
				}},
		},
	}
}

// labels are a test image's org.opencontainers.image.* labels.
func labels(title, description string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       title,
		"org.opencontainers.image.description": description,
		"org.opencontainers.image.source":      source,
	}
}

// programEntries are a layer holding one static program at path (0755, root-owned, with its
// parent folders) and, with tmp, an empty /tmp (1777).
func programEntries(bin, path string, tmp bool) ([]ociarchive.Entry, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var es []ociarchive.Entry
	name := path[1:]
	for dir := filepath.Dir(name); dir != "."; dir = filepath.Dir(dir) {
		es = append([]ociarchive.Entry{ociarchive.Dir(dir+"/", 0o755)}, es...)
	}
	es = append(es, ociarchive.File(name, 0o755, data))
	if tmp {
		es = append(es, ociarchive.Dir("tmp/", 0o1777))
	}
	return es, nil
}

// jaegerEntries are the Jaeger binary at JaegerPath, an empty /tmp (the chart mounts an
// emptyDir there; memory storage writes nothing else) and an /etc/hosts. The binary must come from
// JaegerModule at JaegerModuleVersion, which its Go build information says.
func jaegerEntries(o Options) ([]ociarchive.Entry, error) {
	if o.Jaeger == "" {
		return nil, fmt.Errorf("no Jaeger binary for %s: set Options.Jaeger (-jaeger) to the one hack/testbin.sh builds (make testbin)", JaegerImage)
	}
	if _, err := os.Stat(o.Jaeger); err != nil {
		return nil, fmt.Errorf("the Jaeger binary for %s: %w (hack/testbin.sh builds it: make testbin)", JaegerImage, err)
	}
	if !o.anyJaegerBinary {
		if err := checkJaegerBinary(o.Jaeger); err != nil {
			return nil, err
		}
	}
	es, err := programEntries(o.Jaeger, JaegerPath, true)
	if err != nil {
		return nil, err
	}
	// The default configuration's health check listens on localhost:13132: without an
	// /etc/hosts Go would ask DNS for localhost and Jaeger would not start. The kubelet mounts
	// its own /etc/hosts over this one; the file is for runs outside Kubernetes.
	return append(es, ociarchive.Dir("etc/", 0o755), ociarchive.File("etc/hosts", 0o644, []byte(etcHosts))), nil
}

// etcHosts names the loopback addresses localhost.
const etcHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// checkJaegerBinary refuses a binary that is not Jaeger JaegerModuleVersion for Linux on this
// machine's architecture, statically linked.
func checkJaegerBinary(path string) error {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s is not a Go binary with build information: %w", path, err)
	}
	version := ""
	if info.Main.Path == JaegerModule {
		version = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == JaegerModule {
			version = dep.Version
		}
	}
	if version != JaegerModuleVersion {
		return fmt.Errorf("%s was built from %s %q; %s needs %s (hack/testbin.sh's JAEGER_VERSION)", path, JaegerModule, version, JaegerImage, JaegerModuleVersion)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["GOOS"] != "linux" || settings["GOARCH"] != runtime.GOARCH || settings["CGO_ENABLED"] == "1" {
		return fmt.Errorf("%s is built for %s/%s with CGO_ENABLED=%s; the image needs a static linux/%s binary",
			path, settings["GOOS"], settings["GOARCH"], settings["CGO_ENABLED"], runtime.GOARCH)
	}
	return nil
}

// compile builds a program for this machine's Linux platform into dir.
func compile(ctx context.Context, o Options, pkg, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	err := ociarchive.GoBuild(ctx, o.Go, platform(), pkg, out, "-s -w")
	return out, err
}

// platform is the images' platform: Linux on this machine's architecture.
func platform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }
