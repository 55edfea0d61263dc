# osm-tracing: developer entry points. `make` (or `make help`) lists the targets.
#
# Needs only Go, bash, git and make: every other tool and every test binary is built from the
# Go module proxy by hack/testbin.sh into the git-ignored .cache/ folder, keyed by version.
# Go's own settings (GOFLAGS, GOPROXY, ...) pass through the environment as usual.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO ?= go
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CACHE := $(ROOT)/.cache
BIN := $(ROOT)/bin
TESTBIN_SCRIPT := $(ROOT)/hack/testbin.sh

# Versions come from hack/testbin.sh, the one place that pins them.
testbin_version = $(shell sed -n 's/^$(1)=//p' $(TESTBIN_SCRIPT))
HELM_VERSION := $(call testbin_version,HELM_VERSION)
CONTROLLER_GEN_VERSION := $(call testbin_version,CONTROLLER_GEN_VERSION)
GOLANGCI_LINT_VERSION := $(call testbin_version,GOLANGCI_LINT_VERSION)

CONTROLLER_GEN := $(CACHE)/tools/controller-gen-$(CONTROLLER_GEN_VERSION)/controller-gen
GOLANGCI_LINT := $(CACHE)/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint
HELM := $(CACHE)/tools/helm-$(HELM_VERSION)/helm

# Test knobs: `make test TESTFLAGS=-v`, `make test-unit PKGS=./bootstrap/...`,
# `make test-e2e RUN=TestChart`.
TEST_TIMEOUT ?= 30m
TESTFLAGS ?=
RUN ?=
PKGS ?= ./...
RACE ?= -race
go_test_flags = $(RACE) -timeout $(TEST_TIMEOUT) $(if $(RUN),-run '$(RUN)') $(TESTFLAGS)
TEST_LOGS := $(CACHE)/test-logs

# Platforms of `make image` (`make image IMAGE_PLATFORMS=linux/amd64` builds one). The image's
# version is the chart's appVersion; SOURCE_DATE_EPOCH, when set, replaces the commit's time.
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64

CHART := manifests/charts/osm
CRD_DIR := manifests/crds
API_PATHS := ./bootstrap/api/...
# What `make generate` writes; `make verify` fails when any of it differs from git.
GENERATED := $(CRD_DIR) $(CHART)/crds 'bootstrap/api/*zz_generated*' go.mod go.sum

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN { FS = ":.*##"; print "Usage: make <target> [VAR=value ...]" } \
		/^[a-zA-Z0-9_.-]+:.*##/ { printf "  %-12s %s\n", $$1, $$2 } \
		/^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: TESTFLAGS (extra go test flags), RUN (go test -run), PKGS (default ./...),"
	@echo "TEST_TIMEOUT (default $(TEST_TIMEOUT)), RACE (default -race; RACE= turns it off)."

##@ Build

.PHONY: build
build: ## Build bin/osm-injector and bin/osm.
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/osm-injector ./cmd/osm

.PHONY: image
image: ## Build bin/osm-injector-<appVersion>.oci.tar and bin/osm-init-<appVersion>.oci.tar, the OCI images of the injector and of the init container, without Docker (hack/image).
	$(GO) run ./hack/image -go '$(GO)' -out $(BIN) -platforms '$(IMAGE_PLATFORMS)'

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Regenerate deepcopy code and the MeshConfig CRD (also copied into the chart).
	$(CONTROLLER_GEN) object paths=$(API_PATHS)
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=$(API_PATHS) output:crd:dir=$(CRD_DIR)
	@mkdir -p $(CHART)/crds
	cp $(CRD_DIR)/*.yaml $(CHART)/crds/

##@ Test

.PHONY: test
test: testbin node-deps ## Run every test, unit and e2e, with the race detector (builds the test binaries first).
	@$(call go_test,all,$(PKGS))

.PHONY: test-unit
test-unit: ## Run the unit tests (no e2e, no cached binaries needed).
	@$(call go_test,unit,$$($(GO) list $(PKGS) | grep -v /e2e))

.PHONY: test-e2e
test-e2e: testbin node-deps ## Run the e2e tests against real control planes on loopback and a real node.
	@$(call go_test,e2e,./e2e/...)

.PHONY: bench
bench: ## Run the benchmarks of the core and the webhook.
	$(GO) test -run '^$$' -bench . -benchmem $(TESTFLAGS) ./bootstrap/... ./webhook/...

.PHONY: testbin
testbin: ## Build kube-apiserver, etcd, kwok, Jaeger and the tools into .cache/ (cached; ~10 min the first time).
	$(TESTBIN_SCRIPT)

.PHONY: node-deps
node-deps: ## Install the Debian packages the real-node tests need (containerd, runc, CNI plugins, iptables, nftables) when missing; needs root.
	$(ROOT)/hack/node-deps.sh

.PHONY: loadbench
loadbench: testbin ## Load-test the webhook on a local control plane at c=1,8,32 (hack/loadbench; flags: LOADBENCH_FLAGS=...; `go run ./hack/loadbench load -h` loads a running webhook).
	$(GO) run ./hack/loadbench $(LOADBENCH_FLAGS)

##@ Quality

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (.golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: lint-chart
lint-chart: $(HELM) ## Run helm lint on the chart with its default and demo values.
	$(HELM) lint $(CHART)
	$(HELM) lint $(CHART) --set osm.deployJaeger=true,osm.tracing.enable=true,osm.webhook.url=https://127.0.0.1:9443

.PHONY: verify
verify: generate lint-chart ## Fail when generated files or go.mod/go.sum are stale, code is unformatted, or go vet complains.
	$(GO) mod tidy
	@if ! git diff --quiet -- $(GENERATED); then \
		git --no-pager diff --stat -- $(GENERATED); \
		echo "verify: generated files or go.mod/go.sum are out of date: run make generate and go mod tidy, then commit" >&2; \
		exit 1; \
	fi
	@untracked="$$(git ls-files --others --exclude-standard -- $(GENERATED))"; \
	if [[ -n "$$untracked" ]]; then \
		echo "$$untracked"; \
		echo "verify: generated files are not committed" >&2; \
		exit 1; \
	fi
	@unformatted="$$(find . \( -path ./.cache -o -path ./bin -o -path ./.git \) -prune -o -name '*.go' -print0 | xargs -0 -r gofmt -l)"; \
	if [[ -n "$$unformatted" ]]; then \
		echo "$$unformatted"; \
		echo "verify: these files are not gofmt-ed: run gofmt -w on them" >&2; \
		exit 1; \
	fi
	$(GO) vet ./...

##@ Demo

.PHONY: demo
demo: ## Run the demo (hack/demo.sh).
	$(ROOT)/hack/demo.sh up

.PHONY: demo-down
demo-down: ## Stop the demo and remove what it made.
	$(ROOT)/hack/demo.sh down

##@ Cleanup

.PHONY: clean
clean: ## Remove bin/ and test logs (keeps the .cache/ binaries, which take minutes to rebuild).
	rm -rf $(BIN) $(TEST_LOGS)

.PHONY: clean-cache
clean-cache: clean ## Also remove .cache/ (test binaries and tools are rebuilt on the next run).
	rm -rf $(CACHE)

# Tools, built on demand by hack/testbin.sh (idempotent; a cached tool costs nothing).
$(CONTROLLER_GEN):
	$(TESTBIN_SCRIPT) controller-gen
$(GOLANGCI_LINT):
	$(TESTBIN_SCRIPT) golangci-lint
$(HELM):
	$(TESTBIN_SCRIPT) helm

# go_test NAME,PACKAGES: go test with the race detector, its output kept in
# .cache/test-logs/NAME.log, then a summary: packages passed, failed and without tests, and
# every failed test. PACKAGES is expanded by the shell once. The exit status is go test's.
define go_test
	mkdir -p $(TEST_LOGS); log=$(TEST_LOGS)/$(1).log; pkgs="$(2)"; \
	echo "go test $(go_test_flags) $$(echo $$pkgs | head -c 200)"; \
	set +e; $(GO) test $(go_test_flags) $$pkgs 2>&1 | tee "$$log"; status=$${PIPESTATUS[0]}; set -e; \
	ok=$$(grep -cE '^ok[[:space:]]' "$$log" || true); \
	failed=$$(grep -cE '^FAIL[[:space:]]+[^[:space:]]' "$$log" || true); \
	none=$$(grep -cE '^\?[[:space:]]' "$$log" || true); \
	echo; echo "=== go test summary ($(1)): $$ok packages ok, $$failed failed, $$none without tests; log: $$log"; \
	if grep -qE -- '--- FAIL' "$$log"; then \
		echo "Failed tests:"; grep -E -- '--- FAIL' "$$log" | sed 's/^/  /'; \
	fi; \
	if [[ $$failed -gt 0 ]]; then \
		echo "Failed packages:"; grep -E '^FAIL[[:space:]]+[^[:space:]]' "$$log" | sed 's/^/  /'; \
	fi; \
	if [[ $$status -eq 0 ]]; then echo "=== PASS"; else echo "=== FAIL (go test exit status $$status)"; fi; \
	exit $$status
endef
