package framework

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultStartTimeout bounds Start when Options.StartTimeout is zero.
const DefaultStartTimeout = 3 * time.Minute

// Options say which parts of a cluster to run.
type Options struct {
	// Controllers runs kube-controller-manager and kube-scheduler.
	Controllers bool
	// Kwok runs kwok with the fake node KwokNodeName, Ready and untainted. Implies Controllers.
	Kwok bool
	// KwokPortForwards are installed before kwok starts; more can be added with
	// Cluster.AddPortForward.
	KwokPortForwards []PortForward
	// Node runs a real node, NodeName: containerd, kubelet and kube-proxy on a bridge the test
	// creates, with kube-apiserver on the bridge's address and a stand-in for CoreDNS. It
	// needs root and the Debian packages hack/node-deps.sh installs, and one node runs on a
	// machine at a time (a second test binary waits). Implies Controllers; excludes Kwok.
	Node bool
	// NodeImages are OCI image archives imported into the node's containerd before kubelet
	// starts (one of them naming SandboxImage).
	NodeImages []string
	// APIServerFlags are extra kube-apiserver flags ("--name=value"), after the framework's own.
	APIServerFlags []string
	// StartTimeout bounds the start-up (default DefaultStartTimeout).
	StartTimeout time.Duration
}

// Cluster is a running control plane. Its processes stop when the test ends.
type Cluster struct {
	// RESTConfig is the admin's client configuration: a bearer token of a user in
	// system:masters, trusting the cluster's CA.
	RESTConfig *rest.Config
	// Clientset is a client of RESTConfig.
	Clientset kubernetes.Interface
	// KubeconfigPath is a kubeconfig file for the admin, usable by kubectl.
	KubeconfigPath string
	// APIServerURL is https://127.0.0.1:PORT, or https://NodeIP:PORT with Options.Node.
	APIServerURL string
	// CA signed the API server's and kwok's certificates; it can sign a webhook server's
	// certificate too (CA.NewServingCert), with CA.PEM as the webhook's caBundle.
	CA *CA
	// BinDir is the testbin folder; Binaries has the paths of the binaries in it.
	BinDir   string
	Binaries Binaries
	// Dir is the cluster's temporary folder: certificates, kubeconfigs, process logs.
	Dir string
	// NodeName is KwokNodeName with Options.Kwok, NodeName with Options.Node, or empty.
	NodeName string
	// NodeIP is the real node's address (NodeIP) with Options.Node, or empty.
	NodeIP string

	t        testing.TB
	runner   *runner
	dynamic  dynamic.Interface
	kwok     bool
	kwokUser user
	node     *node
}

// Start starts a cluster for the test; the test fails if it cannot (or is skipped when the
// binaries are missing and OSM_E2E_SKIP is set).
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Kwok && opts.Node {
		// kwok manages every node (--manage-all-nodes): it would take the real one over.
		t.Fatal("framework: Options.Kwok and Options.Node cannot be combined")
	}
	if opts.Kwok || opts.Node {
		opts.Controllers = true
	}
	bins := findBinaries(t)
	requireFiles(t, "etcd", bins.Etcd)
	requireFiles(t, "k8s", bins.KubeAPIServer, bins.Kubectl)
	if opts.Controllers {
		requireFiles(t, "k8s", bins.KubeControllerManager, bins.KubeScheduler)
	}
	if opts.Kwok {
		requireFiles(t, "kwok", bins.Kwok, bins.KwokPortForwardCRD)
		if len(bins.KwokStages) == 0 {
			requireFiles(t, "kwok", filepath.Join(filepath.Dir(bins.Kwok), "assets", "stages", "node-initialize.yaml"))
		}
	}
	var nd *node
	if opts.Node {
		RequireNode(t)
		// Waiting for another test binary's node is not part of the start-up time.
		nd = newNode(t, lockNode(t))
		// Registered before the runner's cleanup, so it runs after it: the check for
		// leftovers sees the machine once every process has ended, and the lock is held
		// until then.
		t.Cleanup(nd.finish)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	r := newRunner(t, "osm-e2e-")
	c := &Cluster{BinDir: bins.Dir, Binaries: bins, Dir: r.dir, t: t, runner: r, kwok: opts.Kwok}
	if nd != nil {
		// Registered after the runner's cleanup, so it runs first: the node's containers
		// are stopped through containerd before the runner stops containerd.
		nd.r, c.node = r, nd
		t.Cleanup(nd.teardown)
	}
	began := time.Now()
	if err := c.start(ctx, opts); err != nil {
		t.Fatalf("framework: starting the cluster: %v", err)
	}
	t.Logf("framework: cluster ready in %s (controllers: %t, kwok: %t, node: %t; files in %s)",
		time.Since(began).Round(time.Millisecond), opts.Controllers, opts.Kwok, opts.Node, c.Dir)
	return c
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	ca, err := NewCA("osm-e2e-ca")
	if err != nil {
		return err
	}
	c.CA = ca
	users, err := newUsers("admin", "system:kube-controller-manager", "system:kube-scheduler", "system:kwok")
	if err != nil {
		return err
	}
	admin, kcm, scheduler := users[0], users[1], users[2]
	c.kwokUser = users[3]
	network := loopbackNet
	if opts.Node {
		network = nodeNet
		phase := time.Now()
		// The bridge comes first: kube-apiserver listens on its address.
		if err := c.node.prepare(ctx); err != nil {
			return err
		}
		c.t.Logf("framework: node network (bridge %s, %s) ready in %s", NodeBridge, NodeIP,
			time.Since(phase).Round(time.Millisecond))
		users = append(users, c.node.users()...)
	}
	files, err := writeAPIServerFiles(c.Dir, ca, users, network)
	if err != nil {
		return err
	}
	if opts.Node {
		if files.kubeletClientCert, files.kubeletClientKey, err = writeKubeletClientCert(c.Dir, ca); err != nil {
			return err
		}
	}
	etcdURL, err := startEtcd(c.runner, c.Binaries)
	if err != nil {
		return err
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	apiPort, kubeletPort := ports[0], 0
	if opts.Kwok {
		kubeletPort = ports[1]
	}
	c.APIServerURL = "https://" + net.JoinHostPort(network.host, strconv.Itoa(apiPort))
	args := apiServerArgs(files, etcdURL, network, apiPort, kubeletPort, opts.APIServerFlags)
	if _, err := c.runner.start("kube-apiserver", c.Binaries.KubeAPIServer, args); err != nil {
		return err
	}
	if err := c.makeClients(admin); err != nil {
		return err
	}
	phase := time.Now()
	if err := waitAPIServerReady(ctx, c.runner, c.Clientset); err != nil {
		return err
	}
	c.t.Logf("framework: kube-apiserver ready in %s", time.Since(phase).Round(time.Millisecond))
	if opts.Controllers {
		phase = time.Now()
		if err := startControllers(c.runner, c.Binaries, files, ca.PEM, c.APIServerURL, network.serviceRange,
			kcm, scheduler); err != nil {
			return err
		}
		if err := waitDefaultServiceAccount(ctx, c.runner, c.Clientset); err != nil {
			return err
		}
		c.t.Logf("framework: controllers ready in %s", time.Since(phase).Round(time.Millisecond))
	}
	if opts.Kwok {
		phase = time.Now()
		if err := startKwok(ctx, c.runner, c.Binaries, ca, c, kubeletPort, opts.KwokPortForwards); err != nil {
			return err
		}
		c.NodeName = KwokNodeName
		c.t.Logf("framework: kwok node ready in %s", time.Since(phase).Round(time.Millisecond))
	}
	if opts.Node {
		if err := c.node.start(ctx, c, opts.NodeImages); err != nil {
			return err
		}
		c.NodeName, c.NodeIP = NodeName, NodeIP
	}
	return nil
}

func newUsers(names ...string) ([]user, error) {
	users := make([]user, 0, len(names))
	for _, name := range names {
		// Every component is a cluster admin: the test cluster needs no finer split.
		u, err := newUser(name, "system:masters")
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

func (c *Cluster) makeClients(admin user) error {
	c.RESTConfig = restConfig(c.APIServerURL, c.CA.PEM, admin)
	c.KubeconfigPath = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(c.KubeconfigPath, c.APIServerURL, c.CA.PEM, admin); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig)
	if err != nil {
		return fmt.Errorf("when making the clientset: %w", err)
	}
	c.Clientset = cs
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	if err != nil {
		return fmt.Errorf("when making the dynamic client: %w", err)
	}
	c.dynamic = dyn
	return nil
}

// Dynamic is a dynamic client of the admin.
func (c *Cluster) Dynamic() dynamic.Interface {
	return c.dynamic
}
