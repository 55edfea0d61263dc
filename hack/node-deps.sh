#!/usr/bin/env bash
# Installs the Debian packages the real-node e2e tests (e2e/node, framework Options.Node)
# need, when they are missing: containerd (with ctr and the runc shim), runc, the CNI plugins
# (bridge, host-local, loopback), nftables (kube-proxy's nftables mode and the framework's
# forward guard), iproute2 (the test's bridge), iptables and conntrack.
#
#   hack/node-deps.sh          install what is missing (as root), say what was done
#   hack/node-deps.sh --check  only report; exit 1 when something is missing
#
# Idempotent and fast when everything is there: one dpkg-query, no apt. It installs only; it
# starts, enables or configures nothing (the tests run their own containerd from a
# configuration of their own).
set -euo pipefail

PACKAGES=(containerd runc containernetworking-plugins iptables nftables iproute2 conntrack)
# The programs the tests run, for machines without dpkg.
COMMANDS=(containerd containerd-shim-runc-v2 ctr runc nft ip iptables conntrack unshare mount)

log() { printf '[node-deps] %s\n' "$*" >&2; }

check_only=false
case "${1:-}" in
--check) check_only=true ;;
"") ;;
*)
	log "usage: $0 [--check]"
	exit 2
	;;
esac

# bridge_netfilter warns when the kernel's bridge netfilter is off: replies of Pods behind a
# Service would be lost (the framework refuses to start a node then).
bridge_netfilter() {
	local f=/proc/sys/net/bridge/bridge-nf-call-iptables
	if [[ ! -e $f ]] && [[ $EUID -eq 0 ]] && command -v modprobe >/dev/null; then
		modprobe br_netfilter 2>/dev/null && log "loaded the br_netfilter module" || true
	fi
	if [[ "$(cat "$f" 2>/dev/null || true)" != 1 ]]; then
		log "warning: $f is not 1: the real node needs the br_netfilter module with it on"
	fi
}

if ! command -v dpkg-query >/dev/null; then
	missing=()
	for c in "${COMMANDS[@]}"; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	if ((${#missing[@]} > 0)); then
		log "error: not a Debian system, and these programs are missing: ${missing[*]}; install them with your package manager"
		exit 1
	fi
	log "all programs present (not a Debian system: checked ${COMMANDS[*]})"
	bridge_netfilter
	exit 0
fi

missing=()
while read -r pkg status; do
	[[ $status == installed ]] || missing+=("$pkg")
done < <(for p in "${PACKAGES[@]}"; do
	printf '%s %s\n' "$p" "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || echo missing)"
done)

if ((${#missing[@]} == 0)); then
	log "all present: ${PACKAGES[*]}"
	bridge_netfilter
	exit 0
fi
if $check_only; then
	log "missing: ${missing[*]}"
	exit 1
fi
if [[ $EUID -ne 0 ]]; then
	log "error: the packages ${missing[*]} are missing and installing them needs root: run sudo $0"
	exit 1
fi

log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "installed: ${missing[*]}"
bridge_netfilter
