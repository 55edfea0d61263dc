package framework

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubeProxyTable is the nftables table kube-proxy's nftables mode programs, in the ip and
// ip6 families.
const kubeProxyTable = "kube-proxy"

// kubeProxyConfig is the node's KubeProxyConfiguration, nftables mode:
//
//   - bindAddress is the node's address: kube-proxy takes it as the node's IP and needs no
//     Node object to start;
//   - healthz and metrics on loopback ports;
//   - clusterCIDR the Pod ranges, so what comes from elsewhere (the node's own connections
//     come from NodeIP, inside them) is masqueraded;
//   - NodePorts on the node's addresses only, never on the machine's other interfaces;
//   - conntrack: every value 0, which leaves the machine's conntrack sysctls as they are.
func (n *node) kubeProxyConfig(kubeconfig string, healthzPort, metricsPort int) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %[1]s
mode: nftables
bindAddress: %[2]s
healthzBindAddress: %[3]s
metricsBindAddress: %[4]s
hostnameOverride: %[5]s
clusterCIDR: %[6]s,%[7]s
detectLocalMode: ClusterCIDR
nodePortAddresses:
- %[2]s/32
- %[8]s/128
oomScoreAdj: 0
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
  tcpBeLiberal: false
  udpTimeout: 0s
  udpStreamTimeout: 0s
`, kubeconfig, NodeIP, hostPort(healthzPort), hostPort(metricsPort), NodeName, NodePodCIDR, NodePodCIDRv6, NodeIPv6)
}

// startKubeProxy writes kube-proxy's kubeconfig and configuration and starts it.
func (n *node) startKubeProxy(c *Cluster) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	kubeconfig := n.path("kube-proxy.kubeconfig")
	if err := writeKubeconfig(kubeconfig, c.APIServerURL, c.CA.PEM, n.proxyUser); err != nil {
		return err
	}
	config := n.path("kube-proxy.yaml")
	if err := writeFile(config, n.kubeProxyConfig(kubeconfig, ports[0], ports[1])); err != nil {
		return err
	}
	p, err := n.r.start("kube-proxy", c.Binaries.KubeProxy, []string{"--config=" + config, "--v=2"})
	if err != nil {
		return err
	}
	n.proxy = p
	return nil
}

// waitKubeProxy waits until kube-proxy's table routes the kubernetes Service (its healthz
// may answer before the first sync).
func (n *node) waitKubeProxy(ctx context.Context) error {
	return n.r.waitFor(ctx, "kube-proxy's rules for the kubernetes Service", func(ctx context.Context) (bool, error) {
		out, err := command(ctx, "", "nft", "list", "table", "ip", kubeProxyTable)
		if err != nil {
			return false, err
		}
		if !strings.Contains(out, KubernetesServiceIP) {
			return false, fmt.Errorf("table ip %s has no rule for %s yet", kubeProxyTable, KubernetesServiceIP)
		}
		return true, nil
	})
}

// flushKubeProxy deletes kube-proxy's tables, which outlive it.
func flushKubeProxy(ctx context.Context) []error {
	var errs []error
	for _, family := range []string{"ip", "ip6"} {
		if !nftTableExists(ctx, family, kubeProxyTable) {
			continue
		}
		if _, err := command(ctx, "", "nft", "delete", "table", family, kubeProxyTable); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// nftTableExists reports whether the nftables table exists.
func nftTableExists(ctx context.Context, family, table string) bool {
	_, err := command(ctx, "", "nft", "list", "table", family, table)
	return err == nil
}

// WaitServiceRouted waits until kube-proxy routes every ClusterIP of the Service (IPv4 and
// IPv6) on the real node, and returns the Service: a Pod or the node may then connect to it.
// A Service is routed a moment after it is created and has a ready endpoint; before that a
// connection to its ClusterIP goes nowhere.
func (c *Cluster) WaitServiceRouted(ctx context.Context, namespace, name string) (*corev1.Service, error) {
	if c.node == nil {
		return nil, fmt.Errorf("waiting for service %s/%s: the cluster has no node (Options.Node)", namespace, name)
	}
	var svc *corev1.Service
	err := c.runner.waitFor(ctx, "kube-proxy's rules for service "+namespace+"/"+name, func(ctx context.Context) (bool, error) {
		s, err := c.Clientset.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("getting the service: %w", err)
		}
		svc = s
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
			return false, fmt.Errorf("%w: service %s/%s has no ClusterIP", errPermanent, namespace, name)
		}
		for _, ip := range s.Spec.ClusterIPs {
			family := "ip"
			if strings.Contains(ip, ":") {
				family = "ip6"
			}
			// The service-ips map holds the Services with endpoints; no-endpoint-services
			// the others, which kube-proxy rejects.
			out, err := command(ctx, "", "nft", "list", "map", family, kubeProxyTable, "service-ips")
			if err != nil {
				return false, err
			}
			if !strings.Contains(out, ip+" ") {
				return false, fmt.Errorf("%s is not in kube-proxy's service-ips map yet (no ready endpoint?)", ip)
			}
		}
		return true, nil
	})
	return svc, err
}
