package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osm-tracing/osm-tracing/bootstrap"
	"github.com/osm-tracing/osm-tracing/webhook/inject"
)

const injectLong = `Inject the Envoy sidecar into the pods and pod templates of a manifest.

Reads Kubernetes objects (YAML or JSON, several documents, v1 Lists) from files, directories
(their .yaml, .yml and .json files) or stdin (-f -), and prints them with the pods and the pod
templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs injected
exactly as the webhook would inject them, followed by the bootstrap ConfigMaps they mount.
Other objects are printed as they were read. Apply the output with kubectl apply -f -.

Running osm inject is the opt-in: the namespace label
openservicemesh.io/sidecar-injection=enabled is not required. Everything else applies as in
the webhook: a pod annotated openservicemesh.io/sidecar-injection: disabled (or false, no)
is left alone, as are hostNetwork pods, pods in kube-system, kube-public and the control-plane
namespace, and pods that already carry the sidecar. Tracing comes from the defaults, the
MeshConfig given with --mesh-config, the namespace's annotations (those of a Namespace object
in the input, then --namespace-annotation) and the pod template's annotations, in that order
of precedence. A malformed annotation fails the command with a message naming the object.

What was injected or skipped, and why, is reported on stderr (unless --quiet).`

const injectExample = `  # Inject the bookstore demo and apply it
  osm inject -f manifests/demo/bookstore.yaml | kubectl apply -f -

  # With the mesh's tracing settings and a namespace-wide override
  kubectl get meshconfig osm-mesh-config -n osm-system -o yaml > mesh.yaml
  osm inject -f manifests/demo/ --mesh-config mesh.yaml \
    --namespace-annotation tracing.openservicemesh.io/sampling=10`

// injectOptions are the flags of osm inject.
type injectOptions struct {
	files                []string
	meshConfig           string
	namespace            string
	osmNamespace         string
	namespaceAnnotations []string
	proxy                inject.ProxyConfig
	quiet                bool
}

// newInjectCmd is osm inject.
func newInjectCmd() *cobra.Command {
	o := injectOptions{proxy: inject.DefaultProxyConfig()}
	cmd := &cobra.Command{
		Use:     "inject -f FILE",
		Short:   "Inject the Envoy sidecar into the pods and pod templates of a manifest",
		Long:    injectLong,
		Example: injectExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, "file, directory or - (stdin) to read objects from (repeatable)")
	f.StringVar(&o.meshConfig, "mesh-config", "", "MeshConfig YAML whose spec.observability.tracing applies (default: the built-in defaults)")
	f.StringVarP(&o.namespace, "namespace", "n", "default", "namespace of the objects that name none")
	f.StringVar(&o.osmNamespace, "osm-namespace", bootstrap.DefaultNamespace, "control-plane namespace (the default collector address is jaeger.<osm-namespace>.svc.cluster.local)")
	f.StringArrayVar(&o.namespaceAnnotations, "namespace-annotation", nil, "annotation KEY=VALUE of the objects' namespace, such as tracing.openservicemesh.io/enable=true (repeatable)")
	f.StringVar(&o.proxy.EnvoyImage, "envoy-image", o.proxy.EnvoyImage, "image of the envoy sidecar")
	f.StringVar(&o.proxy.InitImage, "init-image", o.proxy.InitImage, "image of the osm-init container (osm-init, which make image builds; its /osm-init programs the redirect)")
	f.StringVar(&o.proxy.LogLevel, "envoy-log-level", o.proxy.LogLevel, "Envoy's --log-level")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not report what was injected or skipped on stderr")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// run reads the sources, injects them and writes the result; nothing is written on error.
func (o *injectOptions) run(stdin io.Reader, stdout, stderr io.Writer) error {
	opts := inject.ManifestOptions{
		Env: inject.Env{
			ControlPlaneNamespace: o.osmNamespace,
			Defaults:              bootstrap.Defaults(o.osmNamespace),
			Proxy:                 o.proxy,
		},
		DefaultNamespace: o.namespace,
	}
	if err := o.proxy.Validate(); err != nil {
		return fmt.Errorf("--envoy-log-level: %w", err)
	}
	ann, err := parseKeyValues(o.namespaceAnnotations)
	if err != nil {
		return fmt.Errorf("--namespace-annotation: %w", err)
	}
	opts.NamespaceAnnotations = ann
	if o.meshConfig != "" {
		data, err := os.ReadFile(o.meshConfig)
		if err != nil {
			return fmt.Errorf("--mesh-config: %w", err)
		}
		spec, err := inject.ParseMeshConfig(data, opts.Env.Defaults)
		if err != nil {
			return fmt.Errorf("--mesh-config %s: %w", o.meshConfig, err)
		}
		opts.Env.Mesh = spec
	}
	sources, closeAll, err := openSources(o.files, stdin)
	defer closeAll()
	if err != nil {
		return err
	}
	out, reports, err := inject.Manifests(sources, opts)
	if err != nil {
		return err
	}
	if !o.quiet {
		for _, r := range reports {
			fmt.Fprintln(stderr, r)
		}
	}
	_, err = stdout.Write(out)
	return err
}

// parseKeyValues reads KEY=VALUE pairs (the value may be empty or hold '=').
func parseKeyValues(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want KEY=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}

// openSources opens every file, the manifest files of every directory (sorted, not
// recursive) and stdin for "-". closeAll closes what was opened.
func openSources(names []string, stdin io.Reader) (sources []inject.ManifestSource, closeAll func(), err error) {
	var files []*os.File
	closeAll = func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	var paths []string
	for _, name := range names {
		if name == "-" {
			paths = append(paths, name)
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return nil, closeAll, err
		}
		if !fi.IsDir() {
			paths = append(paths, name)
			continue
		}
		entries, err := os.ReadDir(name)
		if err != nil {
			return nil, closeAll, err
		}
		var inDir []string
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				inDir = append(inDir, filepath.Join(name, e.Name()))
			}
		}
		if len(inDir) == 0 {
			return nil, closeAll, fmt.Errorf("%s: no .yaml, .yml or .json file", name)
		}
		slices.Sort(inDir)
		paths = append(paths, inDir...)
	}
	if len(paths) == 0 {
		return nil, closeAll, errors.New("no input: give -f FILE, -f DIRECTORY or -f -")
	}
	for _, p := range paths {
		if p == "-" {
			sources = append(sources, inject.ManifestSource{Reader: stdin})
			continue
		}
		f, err := os.Open(p) //nolint:gosec // G304: reading the files the user names is the command's job
		if err != nil {
			return nil, closeAll, err
		}
		files = append(files, f)
		sources = append(sources, inject.ManifestSource{Name: p, Reader: f})
	}
	return sources, closeAll, nil
}
