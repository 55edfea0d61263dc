#!/usr/bin/env bash
# Placeholder for the demo (make demo / make demo-down). The real demo, which runs the
# bookstore workloads on the embedded local control plane with Jaeger, replaces this script.
# For now `up` shows what the injector does to the demo manifests.
#
#   hack/demo.sh up     print the demo manifests as osm-injector would inject them
#   hack/demo.sh down   nothing to stop yet
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

case "${1:-up}" in
up)
	if [[ ! -d manifests/demo ]]; then
		echo "demo: manifests/demo does not exist yet; the demo is still being written" >&2
		exit 1
	fi
	go run ./cmd/osm inject -f manifests/demo/ | "${PAGER_CMD:-cat}"
	;;
down)
	echo "demo: nothing to stop (the placeholder demo starts nothing)"
	;;
*)
	echo "usage: $0 [up|down]" >&2
	exit 2
	;;
esac
