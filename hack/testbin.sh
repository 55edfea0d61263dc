#!/usr/bin/env bash
# Builds the real binaries the e2e tests run (kube-apiserver and friends, kubelet and kube-proxy
# for the real node, etcd, kwok, Jaeger)
# and the developer tools (helm, controller-gen, golangci-lint) from the Go module proxy into
# the git-ignored cache folder .cache/ at the repository root, keyed by version.
#
#   hack/testbin.sh                 build everything that is missing
#   hack/testbin.sh k8s etcd        build only these components
#   hack/testbin.sh --print-env     print `export ...` lines for the cached folders
#
# Components: k8s etcd kwok jaeger helm controller-gen golangci-lint certmanager.
# Idempotent: a cached binary is never rebuilt, so a second run costs seconds. Binaries are
# written atomically (built under a temporary name, then moved), so an interrupted build never
# leaves a broken binary behind. The project's own go.mod and go.sum are never touched: every
# build runs in a throwaway module under .cache/build/ or as `go install pkg@version`.
set -euo pipefail

K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
JAEGER_VERSION=v1.76.0
HELM_VERSION=v3.22.0
CONTROLLER_GEN_VERSION=v0.23.0
GOLANGCI_LINT_VERSION=v2.15.0
# Keep in step with hack/certmanager-launcher/go.mod and e2e/framework's CertManagerVersion.
CERT_MANAGER_VERSION=v1.21.2

ALL_COMPONENTS=(etcd k8s kwok jaeger helm controller-gen golangci-lint certmanager)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${OSM_CACHE:-$ROOT/.cache}"
TESTBIN="$CACHE/testbin"
TOOLS="$CACHE/tools"
BUILD="$CACHE/build"

K8S_DIR="$TESTBIN/k8s-$K8S_VERSION"
ETCD_DIR="$TESTBIN/etcd-$ETCD_VERSION"
KWOK_DIR="$TESTBIN/kwok-$KWOK_VERSION"
JAEGER_DIR="$TESTBIN/jaeger-$JAEGER_VERSION"
CERT_MANAGER_DIR="$TESTBIN/certmanager-$CERT_MANAGER_VERSION"
HELM_DIR="$TOOLS/helm-$HELM_VERSION"
CONTROLLER_GEN_DIR="$TOOLS/controller-gen-$CONTROLLER_GEN_VERSION"
GOLANGCI_LINT_DIR="$TOOLS/golangci-lint-$GOLANGCI_LINT_VERSION"

# Builds never use a workspace, never look at the project's module and produce static binaries.
export GOWORK=off
export CGO_ENABLED=0
export GOFLAGS="-mod=mod -buildvcs=false"

log() { printf '[testbin %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

print_env() {
	cat <<EOF
export OSM_TESTBIN="$TESTBIN"
export OSM_TOOLS="$TOOLS"
export PATH="$HELM_DIR:$CONTROLLER_GEN_DIR:$GOLANGCI_LINT_DIR:$K8S_DIR:\$PATH"
EOF
}

# have FILE...: true when every file exists and is executable.
have() {
	local f
	for f in "$@"; do
		[[ -x "$f" ]] || return 1
	done
}

# scratch_module prints an empty throwaway module folder: commands that only download run
# there, so they can never touch the project's go.mod or go.sum.
scratch_module() {
	local dir="$BUILD/scratch"
	if [[ ! -f "$dir/go.mod" ]]; then
		mkdir -p "$dir"
		printf 'module osmtestbin/scratch\n\ngo 1.26.0\n' >"$dir/go.mod"
	fi
	echo "$dir"
}

# module_field MODULE@VERSION FIELD: a field (Dir, GoMod, ...) of `go mod download -json`.
module_field() {
	local json
	json="$(cd "$(scratch_module)" && go mod download -json "$1")" || die "go mod download $1 failed"
	sed -nE "s/^[[:space:]]*\"$2\": \"(.*)\",?\$/\\1/p" <<<"$json" | head -n 1
}

# new_module DIR NAME: a fresh throwaway module in DIR.
new_module() {
	mkdir -p "$1"
	printf 'module %s\n\ngo 1.26.0\n' "$2" >"$1/go.mod"
	rm -f "$1/go.sum"
}

# tools_go DIR PKG...: a tools.go that imports the given main packages.
tools_go() {
	local dir="$1" pkg
	shift
	{
		printf '//go:build tools\n\n// Package tools pins the commands this throwaway module builds.\npackage tools\n\nimport (\n'
		for pkg in "$@"; do
			printf '\t_ "%s"\n' "$pkg"
		done
		printf ')\n'
	} >"$dir/tools.go"
}

# install_atomic DEST_DIR NAME SRC: moves a finished binary into place.
install_atomic() {
	mkdir -p "$1"
	chmod +x "$3"
	mv -f "$3" "$1/$2"
}

build_k8s() {
	local bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
	local targets=() b
	for b in "${bins[@]}"; do
		have "$K8S_DIR/$b" || targets+=("$b")
	done
	if [[ ${#targets[@]} -eq 0 ]]; then
		log "k8s $K8S_VERSION: cached"
		return
	fi
	log "k8s $K8S_VERSION: building ${targets[*]} (kube-apiserver takes minutes)"
	local dir="$BUILD/k8s-$K8S_VERSION"
	# The module is made again when the commands it imports change (kubelet and kube-proxy
	# joined later): .ready holds their list.
	local cmds="${bins[*]}"
	if [[ "$(cat "$dir/.ready" 2>/dev/null)" != "$cmds" ]]; then
		new_module "$dir" osmtestbin/k8s
		local gomod
		gomod="$(module_field "k8s.io/kubernetes@$K8S_VERSION" GoMod)"
		[[ -f "$gomod" ]] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION"
		local staging
		staging="$(sed -nE 's#^(replace)?[[:space:]]*([^[:space:]]+)[[:space:]]+=>[[:space:]]+\./staging/.*#\2#p' "$gomod")"
		[[ -n "$staging" ]] || die "no staging replaces found in $gomod"
		{
			printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$K8S_VERSION"
			local m
			for m in $staging; do
				printf '\t%s => %s %s\n' "$m" "$m" "$K8S_STAGING_VERSION"
			done
			printf ')\n'
		} >>"$dir/go.mod"
		local pkgs=()
		for b in "${bins[@]}"; do
			pkgs+=("k8s.io/kubernetes/cmd/$b")
		done
		tools_go "$dir" "${pkgs[@]}"
		(cd "$dir" && go mod tidy) || die "go mod tidy failed in $dir"
		printf '%s' "$cmds" >"$dir/.ready"
	fi
	local pkg="k8s.io/component-base/version"
	local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1"
	ldflags+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION") -X $pkg.gitTreeState=clean"
	local out pkgs=()
	out="$(mktemp -d "$dir/out.XXXXXX")"
	for b in "${targets[@]}"; do
		pkgs+=("k8s.io/kubernetes/cmd/$b")
	done
	(cd "$dir" && go build -ldflags "$ldflags" -o "$out/" "${pkgs[@]}") || die "building ${targets[*]} failed"
	for b in "${targets[@]}"; do
		install_atomic "$K8S_DIR" "$b" "$out/$b"
	done
	rm -rf "$out"
}

build_etcd() {
	if have "$ETCD_DIR/etcd"; then
		log "etcd $ETCD_VERSION: cached"
		return
	fi
	log "etcd $ETCD_VERSION: building"
	local dir="$BUILD/etcd-$ETCD_VERSION"
	if [[ ! -f "$dir/.ready" ]]; then
		new_module "$dir" osmtestbin/etcd
		printf '\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >>"$dir/go.mod"
		tools_go "$dir" go.etcd.io/etcd/server/v3
		(cd "$dir" && go mod tidy) || die "go mod tidy failed in $dir"
		touch "$dir/.ready"
	fi
	local tmp="$dir/etcd.tmp"
	(cd "$dir" && go build -ldflags "-s -w" -o "$tmp" go.etcd.io/etcd/server/v3) || die "building etcd failed"
	install_atomic "$ETCD_DIR" etcd "$tmp"
}

# go_install DEST_DIR NAME PKG@VERSION [LDFLAGS]: `go install` into a temporary GOBIN, then move.
go_install() {
	local dest="$1" name="$2" pkg="$3" ldflags="${4:--s -w}"
	if have "$dest/$name"; then
		log "$name: cached in $dest"
		return
	fi
	log "$name: go install $pkg"
	local gobin scratch
	scratch="$(scratch_module)"
	gobin="$(mktemp -d "$BUILD/gobin.XXXXXX")"
	(cd "$scratch" && GOFLAGS=-buildvcs=false GOBIN="$gobin" go install -ldflags "$ldflags" "$pkg") ||
		die "go install $pkg failed"
	install_atomic "$dest" "$name" "$gobin/$name"
	rm -rf "$gobin"
}

build_kwok() {
	go_install "$KWOK_DIR" kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" \
		"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
	local assets="$KWOK_DIR/assets"
	if [[ -f "$assets/.complete" ]]; then
		return
	fi
	local src
	src="$(module_field "sigs.k8s.io/kwok@$KWOK_VERSION" Dir)/kustomize"
	[[ -d "$src/stage" ]] || die "kwok stages not found under $src"
	local tmp f
	tmp="$(mktemp -d "$KWOK_DIR/assets.XXXXXX")"
	mkdir -p "$tmp/stages" "$tmp/crds"
	# Stages: a fake node becomes Ready at once and keeps heartbeating; pods become Ready.
	cp "$src/stage/node/fast/node-initialize.yaml" "$tmp/stages/node-initialize.yaml"
	for f in "$src"/stage/node/heartbeat/*.yaml "$src"/stage/pod/fast/*.yaml; do
		[[ "$(basename "$f")" == kustomization.yaml ]] && continue
		cp "$f" "$tmp/stages/$(basename "$f")"
	done
	# The PortForward CRD: with --enable-crds=PortForward kwok watches these objects, so tests
	# can add port forwards while kwok runs.
	cp "$src/crd/bases/kwok.x-k8s.io_portforwards.yaml" "$tmp/crds/portforwards.yaml"
	chmod 0755 "$tmp" "$tmp/stages" "$tmp/crds"
	chmod 0644 "$tmp"/stages/*.yaml "$tmp"/crds/*.yaml
	touch "$tmp/.complete"
	rm -rf "$assets"
	mv "$tmp" "$assets"
}

# module_replaces GOMOD: the replace directives of a go.mod that point at published modules
# (local ./paths dropped), one "old => new version" a line.
module_replaces() {
	awk '
		/^replace[ \t]*\($/ { block = 1; next }
		block && /^\)/ { block = 0; next }
		block { print; next }
		/^replace[ \t]/ { sub(/^replace[ \t]+/, ""); print }
	' "$1" | sed -E 's#//.*##; s/^[[:space:]]+//; s/[[:space:]]+$//' | grep -vE '=>[[:space:]]*\.{1,2}/' | grep -v '^$' || true
}

build_jaeger() {
	if have "$JAEGER_DIR/jaeger"; then
		log "jaeger $JAEGER_VERSION: cached"
		return
	fi
	log "jaeger $JAEGER_VERSION: building"
	# Jaeger's go.mod has replace directives, so `go install ...@version` refuses it: build in
	# a throwaway module that repeats them.
	local dir="$BUILD/jaeger-$JAEGER_VERSION" mod=github.com/jaegertracing/jaeger
	if [[ ! -f "$dir/.ready" ]]; then
		new_module "$dir" osmtestbin/jaeger
		local gomod
		gomod="$(module_field "$mod@$JAEGER_VERSION" GoMod)"
		[[ -f "$gomod" ]] || die "no go.mod for $mod@$JAEGER_VERSION"
		{
			printf '\nrequire %s %s\n' "$mod" "$JAEGER_VERSION"
			local r
			while IFS= read -r r; do
				printf 'replace %s\n' "$r"
			done < <(module_replaces "$gomod")
		} >>"$dir/go.mod"
		tools_go "$dir" "$mod/cmd/jaeger"
		(cd "$dir" && go mod tidy) || die "go mod tidy failed in $dir"
		touch "$dir/.ready"
	fi
	local tmp="$dir/jaeger.tmp"
	(cd "$dir" && go build -ldflags "-s -w" -o "$tmp" "$mod/cmd/jaeger") || die "building jaeger failed"
	install_atomic "$JAEGER_DIR" jaeger "$tmp"
}

# build_certmanager: hack/certmanager-launcher, a TEST-ONLY launcher of cert-manager's own
# controllers and CA injector (its own module, so the project's go.mod never sees them), plus
# cert-manager's CRDs from the module's deploy/crds.
build_certmanager() {
	local src="$ROOT/hack/certmanager-launcher" mod=github.com/cert-manager/cert-manager
	grep -qE "^(require)?[[:space:]]*$mod $CERT_MANAGER_VERSION\$" "$src/go.mod" ||
		die "$src/go.mod does not require $mod $CERT_MANAGER_VERSION"
	# The launcher is the project's own source: the cached binary is keyed by its hash too.
	local hash
	hash="$(cd "$src" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)"
	if have "$CERT_MANAGER_DIR/certmanager-launcher" &&
		[[ "$(cat "$CERT_MANAGER_DIR/.launcher-source" 2>/dev/null)" == "$hash" ]]; then
		log "certmanager $CERT_MANAGER_VERSION: cached"
	else
		log "certmanager $CERT_MANAGER_VERSION: building the test-only launcher (minutes the first time)"
		local tmp
		tmp="$(mktemp -d "$BUILD/certmanager.XXXXXX")"
		# -mod=readonly: the launcher's go.sum is committed; a build never rewrites it.
		(cd "$src" && GOFLAGS="-mod=readonly -buildvcs=false" go build -ldflags "-s -w" -o "$tmp/certmanager-launcher" .) ||
			die "building hack/certmanager-launcher failed"
		install_atomic "$CERT_MANAGER_DIR" certmanager-launcher "$tmp/certmanager-launcher"
		printf '%s\n' "$hash" >"$CERT_MANAGER_DIR/.launcher-source"
		rm -rf "$tmp"
	fi
	if [[ ! -f "$CERT_MANAGER_DIR/crds/.complete" ]]; then
		local crds tmp
		crds="$(module_field "$mod@$CERT_MANAGER_VERSION" Dir)/deploy/crds"
		[[ -f "$crds/cert-manager.io_certificates.yaml" ]] || die "cert-manager CRDs not found under $crds"
		tmp="$(mktemp -d "$CERT_MANAGER_DIR/crds.XXXXXX")"
		cp "$crds"/*.yaml "$tmp/"
		rm -f "$tmp/README.md"
		chmod 0755 "$tmp"
		chmod 0644 "$tmp"/*.yaml
		touch "$tmp/.complete"
		rm -rf "$CERT_MANAGER_DIR/crds"
		mv "$tmp" "$CERT_MANAGER_DIR/crds"
	fi
}

# Helm's release builds set the Kubernetes version that client-side rendering (helm template,
# helm install --dry-run) assumes; without it that is v1.20.0, which the chart's kubeVersion
# (>=1.31.0-0) refuses. Ours assume the Kubernetes version the tests run.
build_helm() {
	local chartutil=helm.sh/helm/v3/pkg/chartutil
	go_install "$HELM_DIR" helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
		"-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X $chartutil.k8sVersionMajor=1 -X $chartutil.k8sVersionMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
}

build_controller_gen() {
	go_install "$CONTROLLER_GEN_DIR" controller-gen \
		"sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_GEN_VERSION"
}

build_golangci_lint() {
	go_install "$GOLANGCI_LINT_DIR" golangci-lint \
		"github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION" \
		"-s -w -X main.version=${GOLANGCI_LINT_VERSION#v}"
}

main() {
	if [[ "${1:-}" == "--print-env" ]]; then
		print_env
		return
	fi
	local components=("$@")
	[[ ${#components[@]} -gt 0 ]] || components=("${ALL_COMPONENTS[@]}")
	local c
	for c in "${components[@]}"; do
		case "$c" in
		k8s | etcd | kwok | jaeger | helm | controller-gen | golangci-lint | certmanager) ;;
		*) die "unknown component '$c' (known: ${ALL_COMPONENTS[*]})" ;;
		esac
	done
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "$TESTBIN" "$TOOLS" "$BUILD"
	# One build at a time: a second caller waits, then finds the binaries cached.
	exec 9>"$CACHE/testbin.lock"
	if ! flock -n 9; then
		log "waiting for another hack/testbin.sh to finish"
		flock 9
	fi
	local start=$SECONDS t
	for c in "${components[@]}"; do
		t=$SECONDS
		case "$c" in
		k8s) build_k8s ;;
		etcd) build_etcd ;;
		kwok) build_kwok ;;
		jaeger) build_jaeger ;;
		helm) build_helm ;;
		controller-gen) build_controller_gen ;;
		golangci-lint) build_golangci_lint ;;
		certmanager) build_certmanager ;;
		esac
		log "$c: done in $((SECONDS - t))s"
	done
	log "all done in $((SECONDS - start))s"
	echo "$TESTBIN"
}

main "$@"
