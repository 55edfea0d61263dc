package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// bridgeNFSysctl must be 1 (module br_netfilter): a Pod's packets bridged to another Pod
// then pass conntrack, which undoes the DNAT of a Service on the reply. Without it, the reply
// of a Pod behind a ClusterIP goes straight back over the bridge with the Pod's own address
// and the caller drops it.
const bridgeNFSysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables"

// nodeBridgeMAC is NodeBridge's fixed MAC address: locally administered (02:...), then
// NodeIP's bytes.
const nodeBridgeMAC = "02:00:0a:e7:00:01"

// setUpBridge creates NodeBridge with the node's addresses, routes the Service range to it,
// turns forwarding on for it alone, and adds the framework's nftables table, which drops
// whatever would be forwarded from or to the bridge through another interface.
//
// Forwarding is what an IPv4 Pod → ClusterIP → Pod packet needs: the node receives it for the
// ClusterIP, kube-proxy's DNAT points it at the other Pod, and the node routes it back out of
// the same bridge. net.ipv4.conf.BRIDGE.forwarding turns that on for packets that come in on
// the bridge only; the machine's net.ipv4.ip_forward stays as it is (off), and the nftables
// table keeps even a Pod with its own default route from reaching any other interface.
//
// IPv6 needs no forwarding (Linux has no per-interface IPv6 forwarding before 6.17's
// force_forwarding): br_netfilter sees the DNAT of a packet that came in on the bridge, and
// when the new destination is on the same bridge it bridges the packet there instead of
// routing it (seen here, with net.ipv6.conf.all.forwarding 0).
func setUpBridge(ctx context.Context) error {
	if v := readTrimmed(bridgeNFSysctl); v != "1" {
		return fmt.Errorf("%s is %q, not 1: the real node needs the br_netfilter module with it on, "+
			"or replies of Pods behind a Service are lost (modprobe br_netfilter; sysctl net.bridge.bridge-nf-call-iptables=1)",
			bridgeNFSysctl, v)
	}
	steps := [][]string{
		// A bridge without an address of its own takes the lowest one of its ports, and
		// changes it as Pods come and go: a Pod that cached the gateway's old MAC then sends
		// its packets for the node (DNS, the kubernetes Service) nowhere until its neighbour
		// entry expires. Seen here as DNS timeouts once the first Pods were deleted.
		{"link", "add", NodeBridge, "address", nodeBridgeMAC, "type", "bridge"},
		{"addr", "add", NodeIP + "/24", "dev", NodeBridge},
		// nodad: with no port the bridge has no carrier, and an address waiting for duplicate
		// address detection could not be bound.
		{"-6", "addr", "add", NodeIPv6 + "/64", "dev", NodeBridge, "nodad"},
		{"link", "set", NodeBridge, "up"},
		// The node's own connections to a ClusterIP (kube-apiserver calling a webhook) leave
		// from NodeIP over the bridge, never by the default route, whether kube-proxy has
		// rewritten them yet or not.
		{"route", "add", NodeServiceCIDR, "dev", NodeBridge, "src", NodeIP},
		{"-6", "route", "add", NodeServiceCIDRv6, "dev", NodeBridge, "src", NodeIPv6},
	}
	for _, args := range steps {
		if _, err := command(ctx, "", "ip", args...); err != nil {
			return fmt.Errorf("when setting up the bridge: %w", err)
		}
	}
	forwarding := "/proc/sys/net/ipv4/conf/" + NodeBridge + "/forwarding"
	if err := os.WriteFile(forwarding, []byte("1"), 0o600); err != nil {
		return fmt.Errorf("when turning forwarding on for %s only: %w", NodeBridge, err)
	}
	if _, err := command(ctx, nodeTableRules(), "nft", "-f", "-"); err != nil {
		return fmt.Errorf("when adding the nftables table %s: %w", nodeNFTable, err)
	}
	return nil
}

// nodeTableRules is the framework's nftables table: of what is forwarded, only what enters
// and leaves by the bridge passes. A drop here is final whatever other tables (kube-proxy's)
// accept, and the table holds no other rule, so it changes nothing else on the machine.
func nodeTableRules() string {
	return fmt.Sprintf(`table inet %[1]s {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname %[2]q oifname %[2]q accept
		iifname %[2]q drop
		oifname %[2]q drop
	}
}
`, nodeNFTable, NodeBridge)
}

// writeCNIConfig writes the Pods' network: the bridge plugin on NodeBridge (its gateway
// address is the test's, so isGateway stays false and the plugin never turns on the
// machine's ip_forward; no masquerading), host-local addresses from both Pod ranges, and a
// route to each Service range through the node: no default route, so a Pod has no way off
// the machine.
func writeCNIConfig(confDir, ipamDir string) error {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "osm-e2e",
		"plugins": []any{
			map[string]any{
				"type":             "bridge",
				"bridge":           NodeBridge,
				"isGateway":        false,
				"isDefaultGateway": false,
				"ipMasq":           false,
				"hairpinMode":      true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": ipamDir,
					"ranges": []any{
						[]any{map[string]any{"subnet": NodePodCIDR, "rangeStart": "10.231.0.11", "gateway": NodeIP}},
						[]any{map[string]any{"subnet": NodePodCIDRv6, "rangeStart": "fd10:231::11", "gateway": NodeIPv6}},
					},
					"routes": []any{
						map[string]any{"dst": NodeServiceCIDR, "gw": NodeIP},
						map[string]any{"dst": NodeServiceCIDRv6, "gw": NodeIPv6},
					},
				},
			},
			map[string]any{"type": "loopback"},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("when encoding the CNI configuration: %w", err)
	}
	return writeFile(filepath.Join(confDir, "10-osm-e2e.conflist"), string(data)+"\n")
}
