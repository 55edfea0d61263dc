// Command osm-init is the injected init container: it installs the pod's traffic redirect to
// Envoy in the pod's network namespace and exits. The injector writes its command line with
// redirect.Spec.Args, and osm-init reads it with redirect.Parse:
//
//	osm-init --inbound-port=15003 --outbound-port=15001 --proxy-uid=1500 \
//	  [--inbound-port-exclusions=P,...] [--outbound-port-exclusions=P,...] \
//	  [--outbound-ip-exclusions=CIDR,...] [--outbound-ip-inclusions=CIDR,...] \
//	  [--run-dir=DIR --bootstrap-dir=DIR] [--dry-run]
//	osm-init drain
//
// With --run-dir it also fills the run volume it shares with the envoy container (rundir.go:
// its own copy, and the link to the bootstrap rendering that fits the kernel), and `osm-init
// drain` is that copy run as Envoy's preStop hook (drain.go).
//
// The rules are nftables tables (package ruleset), sent to the kernel over netlink in one
// transaction (package nft): no shell, no iptables or nft binary, and the image holds nothing
// but this static binary. With --dry-run it prints the transaction in nft's syntax instead
// (`osm-init --dry-run ... | nft -f -` would install the same rules) and touches nothing.
//
// It prints one line per address family it redirected ("osm-init: IPv4 traffic redirected to
// Envoy: ..."), and a line for a family it left out and why. When it fails, it exits 1 and
// writes the cause, one line, to stderr and to /dev/termination-log when that file exists
// (the kubelet mounts it, and shows its content in the pod's status).
//
// It needs CAP_NET_ADMIN and nothing else, and runs as uid 0: Kubernetes cannot give a
// non-root process ambient capabilities, and with allowPrivilegeEscalation false the
// container runs with no_new_privs, under which file capabilities on the binary would not
// be granted either; a root process with a bounding set of NET_ADMIN alone is the way
// (Istio's istio-init runs the same way, as uid 0 with NET_ADMIN).
package main
