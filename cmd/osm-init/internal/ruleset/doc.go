// Package ruleset is osm-init's redirect as data: the nftables tables a redirect.Spec calls
// for (Build), one per address family, written out in nft's own syntax (Script) and
// summed up in one log line per family (Describe). Package nft turns the same values into
// netlink messages; nothing here touches the kernel, so the rules are tested on any machine
// and `osm-init --dry-run` prints exactly what would be installed.
//
// As Istio's istio-iptables does, the whole rule set is built as data first and applied in
// one transaction; unlike it, there is no iptables binary and no text parsing in between:
// the data is sent to the kernel as nf_tables expressions.
//
// Each family gets a table named osm_proxy (ip and ip6) with two base chains of type nat:
//
//	table ip osm_proxy {
//		chain inbound {
//			type nat hook prerouting priority -100; policy accept;
//			meta l4proto != tcp return
//			tcp dport 15021 return
//			tcp dport 15000 return
//			tcp dport 15090 return
//			meta l4proto tcp redirect to :15003
//		}
//		chain outbound {
//			type nat hook output priority -100; policy accept;
//			meta l4proto != tcp return
//			meta skuid 1500 return
//			oifname "lo" return
//			ip daddr 127.0.0.1 return
//			meta l4proto tcp redirect to :15001
//		}
//	}
//
// The priorities are iptables' nat table's (dstnat, -100, at both hooks), so the rules see
// packets where the iptables rules they replace saw them. They are the rules OSM's and the
// old osm-init script's iptables chains held (PROXY_INBOUND, PROXY_OUTPUT and their
// REDIRECT targets), rule for rule, flattened into the base chains.
//
// One table per family rather than one inet table: nat chains in the inet family need Linux
// 5.2, while ip and ip6 nat chains work on every kernel Kubernetes runs on; and above all
// the families must be separable, since a pod whose kernel has no IPv6, or no IPv6 nat, and
// which has no global IPv6 address gets its IPv4 redirect alone (see package nft).
package ruleset
