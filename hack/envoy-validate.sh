#!/usr/bin/env bash
# Checks the golden bootstraps with a real Envoy: `envoy --mode validate -c FILE` loads the
# configuration as Envoy would (every typed_config, cluster and listener, by Envoy's own
# code) and exits without binding a port or connecting anywhere. It catches what
# go-control-plane's Validate and the rules of bootstrap/rules_test.go cannot: those only know
# the proto schema and what we wrote down of Envoy's behaviour.
#
#   hack/envoy-validate.sh [FILE...]     default: bootstrap/testdata/*.yaml
#
# The Envoy used is, in order: an `envoy` on PATH; else the image ENVOY_IMAGE (default
# envoyproxy/envoy:v1.37.0, the release go-control-plane v1.37 describes) run with docker,
# or podman, when one of them works. With neither it says why and exits 0: it is a tool for
# those who have Envoy or a container runtime, not part of `make test`, and CI does not run
# it. Exit status 1 when any file fails to validate.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${ENVOY_IMAGE:-envoyproxy/envoy:v1.37.0}"

log() { printf 'envoy-validate: %s\n' "$*"; }
skip() {
	log "skipped: $*"
	exit 0
}

files=("$@")
if ((${#files[@]} == 0)); then
	files=("$ROOT"/bootstrap/testdata/*.yaml)
fi
for f in "${files[@]}"; do
	[[ -f "$f" ]] || {
		log "no such file: $f"
		exit 2
	}
done

# validate FILE: runs the chosen Envoy on FILE; prints Envoy's output on failure.
if command -v envoy >/dev/null 2>&1; then
	log "using $(command -v envoy): $(envoy --version 2>/dev/null | tr -s ' \n' ' ' | sed 's/ $//')"
	validate() { envoy --mode validate -c "$1" --log-level warn 2>&1; }
else
	runtime=""
	for r in docker podman; do
		if command -v "$r" >/dev/null 2>&1 && "$r" info >/dev/null 2>&1; then
			runtime=$r
			break
		fi
	done
	[[ -n "$runtime" ]] || skip "no envoy on PATH, and neither docker nor podman works here (install one, or put envoy on PATH)"
	if ! "$runtime" image inspect "$IMAGE" >/dev/null 2>&1; then
		log "pulling $IMAGE with $runtime"
		"$runtime" pull --quiet "$IMAGE" >/dev/null || skip "$runtime cannot pull $IMAGE (offline? set ENVOY_IMAGE to an image you have)"
	fi
	log "using $IMAGE with $runtime"
	# The image's entrypoint runs envoy with arguments that start with '-'. The file is
	# mounted alone, read-only, at a fixed path.
	validate() {
		"$runtime" run --rm --network none -v "$(cd "$(dirname "$1")" && pwd)/$(basename "$1"):/etc/envoy/bootstrap.yaml:ro" \
			"$IMAGE" --mode validate -c /etc/envoy/bootstrap.yaml --log-level warn 2>&1
	}
fi

failed=0
for f in "${files[@]}"; do
	if out=$(validate "$f"); then
		log "ok   ${f#"$ROOT"/}"
	else
		log "FAIL ${f#"$ROOT"/}"
		printf '%s\n' "$out" | sed 's/^/    /'
		failed=1
	fi
done
exit "$failed"
