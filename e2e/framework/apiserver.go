package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// ServiceClusterIPRange is the service range given to kube-apiserver. It is only a range
// string: nothing on the machine routes or sends traffic to it. A cluster with a real node
// has a range of its own, NodeServiceCIDR, which kube-proxy does serve.
const ServiceClusterIPRange = "10.0.0.0/24"

// apiServerNet is where kube-apiserver listens and which Service range it allocates from.
type apiServerNet struct {
	// host is the bind address, in the serving certificate and the clients' URLs.
	host string
	// advertise is --advertise-address (the endpoint of the kubernetes Service), or empty:
	// kube-apiserver refuses a loopback one.
	advertise string
	// serviceRange is --service-cluster-ip-range (one range, or an IPv4 and an IPv6 one),
	// and serviceIP the first address of the first, the kubernetes Service's ClusterIP (in
	// the serving certificate).
	serviceRange, serviceIP string
}

// loopbackNet is the network of a cluster without a real node: loopback only.
var loopbackNet = apiServerNet{host: loopbackHost, serviceRange: ServiceClusterIPRange, serviceIP: "10.0.0.1"}

// nodeNet is the network of a cluster with a real node: kube-apiserver listens on the node's
// bridge address, so that Pods reach it through the kubernetes Service.
var nodeNet = apiServerNet{
	host: NodeIP, advertise: NodeIP,
	serviceRange: NodeServiceCIDR + "," + NodeServiceCIDRv6, serviceIP: KubernetesServiceIP,
}

// apiServerFiles are the files kube-apiserver reads.
type apiServerFiles struct {
	caCert, servingCert, servingKey, saKey, saPub, tokens string
	// kubeletClientCert and kubeletClientKey are kube-apiserver's client certificate for a
	// real kubelet's API, or empty.
	kubeletClientCert, kubeletClientKey string
}

// writeAPIServerFiles makes the CA, the serving certificate, the service-account keys and the
// token file.
func writeAPIServerFiles(dir string, ca *CA, users []user, n apiServerNet) (apiServerFiles, error) {
	f := apiServerFiles{
		caCert:      filepath.Join(dir, "ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		saPub:       filepath.Join(dir, "sa.pub"),
		tokens:      filepath.Join(dir, "tokens.csv"),
	}
	if err := os.WriteFile(f.caCert, ca.PEM, 0o600); err != nil {
		return f, fmt.Errorf("when writing %s: %w", f.caCert, err)
	}
	ips := []net.IP{net.ParseIP(loopbackHost), net.ParseIP(n.serviceIP)}
	if n.host != loopbackHost {
		ips = append(ips, net.ParseIP(n.host))
	}
	serving, err := ca.NewServingCert("kube-apiserver", ips,
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"})
	if err != nil {
		return f, err
	}
	if err := serving.WriteFiles(f.servingCert, f.servingKey); err != nil {
		return f, err
	}
	if err := writeServiceAccountKeys(f.saKey, f.saPub); err != nil {
		return f, err
	}
	var tokens strings.Builder
	for _, u := range users {
		tokens.WriteString(u.tokenLine())
	}
	if err := os.WriteFile(f.tokens, []byte(tokens.String()), 0o600); err != nil {
		return f, fmt.Errorf("when writing %s: %w", f.tokens, err)
	}
	return f, nil
}

// apiServerArgs are kube-apiserver's flags. kubeletPort is 0 without kwok.
func apiServerArgs(f apiServerFiles, etcdURL string, n apiServerNet, port, kubeletPort int, extra []string) []string {
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=" + n.host,
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + f.servingCert,
		"--tls-private-key-file=" + f.servingKey,
		"--client-ca-file=" + f.caCert,
		"--token-auth-file=" + f.tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + f.saPub,
		"--service-account-signing-key-file=" + f.saKey,
		"--service-cluster-ip-range=" + n.serviceRange,
		"--allow-privileged=true",
		"--profiling=false",
		// The kubelet API is kwok's (on loopback) or a real node's (on its bridge address),
		// with a certificate of the cluster's CA.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority=" + f.caCert,
	}
	if kubeletPort != 0 {
		args = append(args, "--kubelet-port="+strconv.Itoa(kubeletPort))
	}
	if n.advertise != "" {
		args = append(args, "--advertise-address="+n.advertise)
	}
	if f.kubeletClientCert != "" {
		// A real kubelet authenticates kube-apiserver by a client certificate of the CA.
		args = append(args, "--kubelet-client-certificate="+f.kubeletClientCert,
			"--kubelet-client-key="+f.kubeletClientKey)
	}
	return append(args, extra...)
}

// waitAPIServerReady waits until /readyz answers ok.
func waitAPIServerReady(ctx context.Context, r *runner, cs kubernetes.Interface) error {
	return r.waitFor(ctx, "kube-apiserver /readyz", func(ctx context.Context) (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, fmt.Errorf("readyz: %w: %s", err, strings.TrimSpace(string(body)))
		}
		return strings.TrimSpace(string(body)) == "ok", nil
	})
}
