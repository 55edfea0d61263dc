// Package nft installs osm-init's tables (package ruleset) in the kernel over netlink, with
// github.com/google/nftables: no nft or iptables binary, no shell, only the CAP_NET_ADMIN
// the injected container is given.
//
// Install decides which families to install and what to do when one cannot be:
//
//   - every table goes in one netlink batch, which nf_tables applies as one transaction:
//     either every rule of both families is in, or none is;
//   - each table is added, deleted and added again with its chains and rules within that
//     transaction, so a second run (the kubelet runs init containers again when it recreates
//     a pod's sandbox, and the network namespace may have survived) replaces what the first
//     one left instead of adding to it or failing on it;
//   - a kernel without IPv6 (no /proc/net/if_inet6: ipv6.disable=1, or no IPv6 built in) gets
//     the IPv4 table alone, and a line says so;
//   - when the kernel has IPv6 but refuses the IPv6 table (no IPv6 nat, say), a pod with a
//     global IPv6 address makes osm-init fail, since its IPv6 traffic would bypass Envoy
//     unseen, while a pod without one gets the IPv4 table alone and a warning.
//
// System holds the kernel and the probes behind function values, so that tests can make
// the kernel refuse a transaction or lack IPv6 while still programming a real one (Kernel
// takes the network namespace to program).
package nft
