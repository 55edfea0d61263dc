#!/usr/bin/env bash
# Stops the demo that hack/demo.sh started (make demo-down; hack/demo.sh down runs this too):
# the port-forwards, the local osm-injector and the local control plane (hack/localcluster,
# which stops etcd, kube-apiserver, the controllers, kwok and Jaeger and waits for them).
# Only processes whose pid the demo recorded, and whose command line is still the one it
# started, are signalled. The logs under .cache/demo/ are kept until the next `make demo`.
# Running it when no demo runs is fine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO="${OSM_CACHE:-$ROOT/.cache}/demo"
RUN="$DEMO/run"

log() { printf 'demo-down: %s\n' "$*"; }

# ours PID WORD: the process is alive and its command line contains WORD.
ours() {
	local pid=$1 word=$2
	[[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$word"
}

# stop_pid NAME PID WORD GRACE: SIGTERM, wait up to GRACE seconds, then SIGKILL.
stop_pid() {
	local name=$1 pid=$2 word=$3 grace=$4 i
	ours "$pid" "$word" || return 0
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		ours "$pid" "$word" || return 0
		sleep 0.1
	done
	log "$name (pid $pid) did not stop within ${grace}s: killing it"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		ours "$pid" "$word" || return 0
		sleep 0.1
	done
	log "warning: $name (pid $pid) is still running"
	return 1
}

[[ -d "$RUN" ]] || { log "no demo is running"; exit 0; }

status=0
# Port-forwards and the injector first: they talk to the API server.
for f in "$RUN"/port-forward-*.pid; do
	[[ -e "$f" ]] || continue
	stop_pid "kubectl port-forward" "$(cat "$f")" "port-forward" 5 || status=1
	rm -f "$f"
done
if [[ -f "$RUN/osm-injector.pid" ]]; then
	stop_pid osm-injector "$(cat "$RUN/osm-injector.pid")" "osm-injector" 15 || status=1
	rm -f "$RUN/osm-injector.pid"
fi

# The control plane: localcluster stops its children and waits for them on SIGTERM; they
# get SIGKILL from the kernel if it dies first.
children=()
if [[ -f "$DEMO/state.json" ]]; then
	# "pid": N lines of the processes list (the first is localcluster's own).
	mapfile -t children < <(sed -n 's/^ *"pid": \([0-9]*\),*$/\1/p' "$DEMO/state.json" | tail -n +2)
fi
if [[ -f "$RUN/localcluster.pid" ]]; then
	stop_pid "the local control plane" "$(cat "$RUN/localcluster.pid")" "localcluster" 60 || status=1
	rm -f "$RUN/localcluster.pid"
fi
# Whatever localcluster started must be gone now; make sure (only its testbin binaries).
for pid in "${children[@]}"; do
	stop_pid "leftover process" "$pid" "$DEMO/" 5 || status=1
done
rm -f "$DEMO/state.json"
rmdir "$RUN" 2>/dev/null || true
if [[ $status -eq 0 ]]; then
	log "the demo is stopped (logs kept in $DEMO/logs)"
fi
exit $status
