#!/usr/bin/env bash
# The demo (make demo / make demo-down): the tracing guide's bookstore, on a local control
# plane with a real Jaeger, in one command on a fresh machine.
#
#   hack/demo.sh up     stop a previous demo, build what is missing, start everything, show it
#   hack/demo.sh down   stop everything (hack/demo-down.sh)
#
# What runs, all on 127.0.0.1 (no Docker, no network):
#   - hack/localcluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
#     with one fake node (pods become Running and Ready, no container really runs), and a real
#     Jaeger all-in-one. kwok PortForwards put the real Jaeger behind the Jaeger pod's ports
#     9411 and 16686, and an Envoy admin STAND-IN behind each injected pod's port 15000.
#   - bin/osm-injector as a local process: the chart's webhook points at it (osm.webhook.url)
#     and the in-cluster injector Deployment is scaled to 0 (osm.injector.replicas=0).
#
# The first run builds the test binaries (hack/testbin.sh, ~10 min, cached under .cache/);
# after that the demo takes a minute or two. It exits 0 only if every step it showed worked.
# Logs: .cache/demo/logs/. Settings: OSM_DEMO_TIMEOUT (seconds a wait may take, default 180).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CACHE="${OSM_CACHE:-$ROOT/.cache}"
DEMO="$CACHE/demo"
RUN="$DEMO/run"
LOGS="$DEMO/logs"
BIN="$ROOT/bin"
STATE="$DEMO/state.json"
DEMO_KUBECONFIG="$DEMO/kubeconfig"
TIMEOUT="${OSM_DEMO_TIMEOUT:-180}"
CP=osm-system

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() {
	STEP="$*"
	echo
	bold "==> $*"
}
info() { printf '    %s\n' "$*"; }
# show CMD...: print a command as the user would type it, then run it.
show() {
	printf '$ %s\n' "$*"
	eval "$*"
}
die() {
	echo "demo: $*" >&2
	exit 1
}

on_exit() {
	local status=$?
	if [[ $status -ne 0 && -n "${STEP:-}" ]]; then
		echo >&2
		echo "demo: FAILED at: $STEP" >&2
		echo "demo: logs are in $LOGS; the cluster is left running for a look (KUBECONFIG=$DEMO_KUBECONFIG);" >&2
		echo "demo: 'make demo-down' stops it" >&2
	fi
	stop_port_forwards
}

# --- helpers --------------------------------------------------------------------------------

# alive PID WORD: the process runs and its command line contains WORD.
alive() {
	[[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now (below the ephemeral range, so the
# control plane's own ports, taken from that range, do not collide with it).
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found on 127.0.0.1"
}

# port_busy PORT: something listens on 127.0.0.1:PORT or [::1]:PORT.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null || (exec 3<>"/dev/tcp/::1/$1") 2>/dev/null
}

# http METHOD PORT PATH [BODY]: an HTTP/1.0 request to 127.0.0.1:PORT (bash's /dev/tcp, so
# neither curl nor wget is needed). Prints the body; fails unless the status is 2xx.
http() {
	local method=$1 port=$2 path=$3 body=${4:-} resp status
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%s %s HTTP/1.0\r\nHost: localhost:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"$method" "$path" "$port" "${#body}" "$body" >&3
	resp="$(timeout 15 cat <&3 || true)"
	exec 3<&- 3>&-
	status="$(printf '%s\n' "$resp" | head -n 1 | awk '{print $2}')"
	printf '%s' "${resp#*$'\r\n\r\n'}"
	[[ "$status" == 2* ]]
}

# wait_for WHAT CMD...: run CMD every second until it succeeds, at most TIMEOUT seconds.
wait_for() {
	local what=$1 began=$SECONDS
	shift
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - began > TIMEOUT)); then
			echo "demo: timed out after ${TIMEOUT}s waiting for $what; the last try said:" >&2
			"$@" >&2 || true
			return 1
		fi
		sleep 1
	done
}

# start_bg NAME WORD CMD...: start CMD in its own session, in the background, logging to
# LOGS/NAME.log, its pid in RUN/NAME.pid. WORD is part of its command line (for demo-down).
start_bg() {
	local name=$1
	shift 2
	if command -v setsid >/dev/null; then
		setsid "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
	else
		nohup "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
	fi
	echo $! >"$RUN/$name.pid"
}

PF_PIDS=()
# port_forward NAME LOCAL:REMOTE: the guide's port-forward to the Jaeger pod, in the
# background; waits until it listens.
port_forward() {
	local name=$1 ports=$2 local_port=${2%%:*}
	start_bg "port-forward-$name" port-forward kubectl port-forward -n "$K8S_NAMESPACE" "$OSM_POD" "$ports"
	PF_PIDS+=("$(cat "$RUN/port-forward-$name.pid")")
	wait_for "kubectl port-forward $ports" grep -q "Forwarding from" "$LOGS/port-forward-$name.log"
	wait_for "127.0.0.1:$local_port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$local_port"
}

stop_port_forwards() {
	local pid
	for pid in "${PF_PIDS[@]}"; do
		if alive "$pid" port-forward; then kill "$pid" 2>/dev/null || true; fi
	done
	rm -f "$RUN"/port-forward-*.pid
	PF_PIDS=()
}

# mesh_status: generation|observed|Progressing reason|its generation|workloads|updated|rolling|pending|failed
mesh_status() {
	kubectl get meshconfig osm-mesh-config -n "$CP" -o jsonpath='{.metadata.generation}|{.status.observedGeneration}|{.status.conditions[?(@.type=="Progressing")].reason}|{.status.conditions[?(@.type=="Progressing")].observedGeneration}|{.status.rebootstrap.workloads}|{.status.rebootstrap.updated}|{.status.rebootstrap.rolling}|{.status.rebootstrap.pending}|{.status.rebootstrap.failed}'
}

# injected_dry_run NS: a pod created with --dry-run=server in NS comes back with the sidecar.
injected_dry_run() {
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: injection-probe, namespace: %s}\nspec: {containers: [{name: probe, image: busybox}]}\n' "$1" |
		kubectl create --dry-run=server -f - -o jsonpath='{.spec.initContainers[*].name}' | grep -qw envoy
}

# pod_of NS SELECTOR: the name of the first pod that is not terminating.
pod_of() {
	kubectl get pods -n "$1" -l "$2" -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' |
		awk 'NF==1{print $1; exit}'
}

# --- up -------------------------------------------------------------------------------------

up() {
	trap on_exit EXIT
	step "Stopping a previous demo, if any"
	"$ROOT/hack/demo-down.sh"
	rm -rf "$DEMO"
	mkdir -p "$RUN" "$LOGS" "$BIN"

	step "Building (test binaries are cached in .cache/testbin; the first run takes ~10 min)"
	"$ROOT/hack/testbin.sh" etcd k8s kwok jaeger 2>&1 | tee "$LOGS/testbin.log" | sed 's/^/    /'
	eval "$("$ROOT/hack/testbin.sh" --print-env)"
	info "go build -o bin/ ./cmd/osm ./cmd/osm-injector"
	go build -o "$BIN/" ./cmd/osm ./cmd/osm-injector
	go build -o "$DEMO/localcluster" ./hack/localcluster
	export PATH="$BIN:$PATH"
	command -v kubectl >/dev/null || die "kubectl is not in $OSM_TESTBIN"

	step "Starting the local control plane and Jaeger (hack/localcluster; logs: $LOGS/localcluster.log)"
	start_bg localcluster localcluster "$DEMO/localcluster" --kubeconfig "$DEMO_KUBECONFIG" --state "$STATE" --dir "$DEMO/cluster"
	local pid began=$SECONDS
	pid="$(cat "$RUN/localcluster.pid")"
	until [[ -f "$STATE" ]]; do
		if ! alive "$pid" localcluster; then
			tail -n 30 "$LOGS/localcluster.log" >&2
			die "the local control plane did not start"
		fi
		((SECONDS - began < 300)) || die "the local control plane did not start within 300s; see $LOGS/localcluster.log"
		sleep 1
	done
	export KUBECONFIG="$DEMO_KUBECONFIG"
	info "ready in $((SECONDS - began))s: $(sed -n 's/.*"apiServer": "\(.*\)",*/\1/p' "$STATE"), node kwok-node-0, Jaeger $(sed -n 's/.*"queryURL": "\(.*\)",*/\1/p' "$STATE")"
	show kubectl get nodes

	local webhook_port health_port
	webhook_port="$(free_port)"
	health_port="$(free_port)"
	while [[ "$health_port" == "$webhook_port" ]]; do health_port="$(free_port)"; done

	step "Installing osm with Jaeger and tracing, as the guide does (the webhook calls the local injector)"
	show bin/osm install --set=osm.deployJaeger=true,osm.tracing.enable=true \
		--set=osm.webhook.url=https://127.0.0.1:"$webhook_port",osm.injector.replicas=0

	step "Starting osm-injector as a local process (logs: $LOGS/osm-injector.log)"
	info "bin/osm-injector --kubeconfig $DEMO_KUBECONFIG --webhook-url https://127.0.0.1:$webhook_port --webhook-host 127.0.0.1 --webhook-port $webhook_port ..."
	start_bg osm-injector osm-injector "$BIN/osm-injector" --kubeconfig "$DEMO_KUBECONFIG" \
		--webhook-url "https://127.0.0.1:$webhook_port" --webhook-host 127.0.0.1 --webhook-port "$webhook_port" \
		--health-probe-bind-address "127.0.0.1:$health_port" --metrics-bind-address 0 --leader-elect=false
	wait_for "osm-injector's /readyz" http GET "$health_port" /readyz
	info "osm-injector is ready"

	step "Adding the bookstore namespaces to the mesh"
	show kubectl create namespace bookbuyer --save-config
	show kubectl create namespace bookstore --save-config
	show kubectl create namespace bookwarehouse --save-config
	show bin/osm namespace add bookbuyer bookstore bookwarehouse
	# The API server calls the webhook once the injector wrote the caBundle: a dry-run pod
	# comes back with the sidecar then.
	wait_for "the webhook to inject a dry-run pod" injected_dry_run bookbuyer

	step "Deploying the bookstore demo (manifests/demo/)"
	show kubectl apply -f manifests/demo/
	for ns in bookbuyer bookstore bookwarehouse; do
		kubectl wait --for=condition=Available deployment --all -n "$ns" --timeout="${TIMEOUT}s" >/dev/null
	done

	step "The injected pods: osm-init and envoy were added by the webhook"
	show kubectl get pods -n bookbuyer -o wide
	show "kubectl get pods -A -l 'tracing.openservicemesh.io/bootstrap-hash' -o custom-columns='NAMESPACE:.metadata.namespace,NAME:.metadata.name,INIT:.spec.initContainers[*].name,CONTAINERS:.spec.containers[*].name,BOOTSTRAP-HASH:.metadata.labels.tracing\.openservicemesh\.io/bootstrap-hash'"
	local pod
	pod="$(pod_of bookbuyer app=bookbuyer)"
	[[ -n "$pod" ]] || die "no bookbuyer pod"
	kubectl get pod -n bookbuyer "$pod" -o jsonpath='{.spec.initContainers[*].name}' | grep -qw envoy ||
		die "pod bookbuyer/$pod has no envoy sidecar (a native sidecar among its init containers): it was not injected"

	step "The tracing section of bookbuyer's generated Envoy bootstrap (its ConfigMap)"
	show "bin/osm proxy bootstrap $pod -n bookbuyer | grep -A12 -e '- name: envoy-tracing-cluster'"
	show "bin/osm proxy bootstrap $pod -n bookbuyer | awk '/name: envoy.tracers.zipkin/ && !seen {n = 9; seen = 1} n && n--'"

	step "The guide's troubleshooting step 3: osm proxy get config_dump"
	info "(no Envoy runs on kwok's fake node: port 15000 of the pod reaches an Envoy admin STAND-IN"
	info " that serves the pod's generated bootstrap as Envoy's /config_dump would)"
	wait_for "the Envoy admin stand-in of $pod" bin/osm proxy get ready -n bookbuyer "$pod"
	show "bin/osm proxy get config_dump -n bookbuyer $pod > $DEMO/config_dump.json"
	show "grep -A16 '\"name\": \"envoy-tracing-cluster\"' $DEMO/config_dump.json"

	step "osm tracing check: the guide's troubleshooting steps, run for you"
	wait_for "Jaeger's port-forwards" bash -c "kubectl get portforwards.kwok.x-k8s.io -n $CP -o name | grep -q jaeger"
	show bin/osm tracing check -n bookbuyer

	step "Changing tracing at run time: the guide's kubectl patch, with sampling at 50%"
	local old_hash old_pods
	old_hash="$(kubectl get pod -n bookbuyer "$pod" -o jsonpath='{.metadata.labels.tracing\.openservicemesh\.io/bootstrap-hash}')"
	old_pods="$(kubectl get pods -A -l tracing.openservicemesh.io/bootstrap-hash -o name | sort)"
	show "kubectl patch meshconfig osm-mesh-config -n osm-system -p '{\"spec\":{\"observability\":{\"tracing\":{\"enable\":true,\"address\": \"jaeger.osm-system.svc.cluster.local\",\"port\":9411,\"endpoint\":\"/api/v2/spans\",\"sampling\":50}}}}'  --type=merge"
	show "kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing}{\"\\n\"}'"

	step "Watching the injector roll the workloads to their new bootstrap (MeshConfig status)"
	local line last="" gen obs reason pgen workloads updated rolling pending failed settled=""
	began=$SECONDS
	while ((SECONDS - began <= TIMEOUT)); do
		line="$(mesh_status)"
		IFS='|' read -r gen obs reason pgen workloads updated rolling pending failed <<<"$line"
		if [[ "$line" != "$last" ]]; then
			info "[$((SECONDS - began))s] generation ${gen} observed ${obs:-none}: ${reason:-no progress yet}; workloads ${workloads:-?}, updated ${updated:-?}, rolling ${rolling:-?}, pending ${pending:-?}, failed ${failed:-?}"
			last="$line"
		fi
		if [[ -n "$gen" && "$obs" == "$gen" && "$pgen" == "$gen" && "$reason" == RolloutComplete &&
			"${rolling:-1}${pending:-1}${failed:-1}" == 000 && "${workloads:-0}" == "${updated:-}" && "${workloads:-0}" -gt 0 ]]; then
			settled=1
			break
		fi
		[[ "${failed:-0}" == 0 ]] || break
		sleep 1
	done
	show "kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.status}{\"\\n\"}'"
	[[ -n "$settled" ]] || die "the re-bootstrap did not complete within ${TIMEOUT}s"
	for ns in bookbuyer bookstore bookwarehouse; do
		kubectl wait --for=condition=Available deployment --all -n "$ns" --timeout="${TIMEOUT}s" >/dev/null
	done
	wait_for "the old bookbuyer pod to go" bash -c "! kubectl get pod -n bookbuyer $pod >/dev/null 2>&1"
	show "kubectl get pods -A -l 'tracing.openservicemesh.io/bootstrap-hash' -o custom-columns='NAMESPACE:.metadata.namespace,NAME:.metadata.name,BOOTSTRAP-HASH:.metadata.labels.tracing\.openservicemesh\.io/bootstrap-hash'"
	local new_pods
	new_pods="$(kubectl get pods -A -l tracing.openservicemesh.io/bootstrap-hash -o name | sort)"
	if [[ -n "$(comm -12 <(echo "$old_pods") <(echo "$new_pods"))" ]]; then
		die "some pods were not replaced: $(comm -12 <(echo "$old_pods") <(echo "$new_pods") | tr '\n' ' ')"
	fi
	pod="$(pod_of bookbuyer app=bookbuyer)"
	local new_hash
	new_hash="$(kubectl get pod -n bookbuyer "$pod" -o jsonpath='{.metadata.labels.tracing\.openservicemesh\.io/bootstrap-hash}')"
	[[ -n "$new_hash" && "$new_hash" != "$old_hash" ]] || die "bookbuyer's bootstrap hash did not change ($old_hash -> $new_hash)"
	info "every injected pod was replaced; bookbuyer's bootstrap went from $old_hash to $new_hash:"
	show "bin/osm proxy bootstrap $pod -n bookbuyer | awk '/random_sampling/ && !seen {n = 2; seen = 1} n && n--'"
	show bin/osm tracing check -n bookbuyer

	step "Reaching Jaeger, as the guide does"
	export K8S_NAMESPACE="$CP"
	show "OSM_POD=\$(kubectl get pods -n \"\$K8S_NAMESPACE\" --no-headers  --selector app=jaeger | awk 'NR==1{print \$1}')"
	[[ -n "$OSM_POD" ]] || die "no Jaeger pod"
	local ui_port=16686 zipkin_port
	if port_busy 16686; then
		ui_port="$(free_port)"
		info "(port 16686 is busy on this machine: the demo forwards $ui_port instead)"
	fi
	zipkin_port="$(free_port)"
	# shellcheck disable=SC2016 # the guide's command, printed as the user types it
	printf '$ kubectl port-forward -n "$K8S_NAMESPACE" "$OSM_POD"  %s:16686 &\n' "$ui_port"
	port_forward ui "$ui_port:16686"
	info "The Envoys are not real here, so nothing sends spans by itself: the demo posts one, as bookbuyer,"
	info "to the Zipkin collector (port 9411) through a second port-forward ($zipkin_port:9411):"
	port_forward zipkin "$zipkin_port:9411"
	local now trace
	now="$(($(date +%s) * 1000000))"
	trace="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
	http POST "$zipkin_port" /api/v2/spans "[{\"traceId\":\"$trace\",\"id\":\"${trace:16:16}\",\"name\":\"get /books-bought\",\"kind\":\"CLIENT\",\"timestamp\":$now,\"duration\":25000,\"localEndpoint\":{\"serviceName\":\"bookbuyer\"},\"remoteEndpoint\":{\"serviceName\":\"bookstore-v1\"},\"tags\":{\"demo\":\"osm-tracing\"}}]" >/dev/null ||
		die "Jaeger's Zipkin collector refused the span"
	info "POST /api/v2/spans: accepted (trace $trace)"
	wait_for "service bookbuyer in Jaeger" bash -c "$(declare -f http); http GET $ui_port /api/services | grep -q '\"bookbuyer\"'"
	info "GET http://localhost:$ui_port/api/services (Jaeger's query API, through the port-forward):"
	http GET "$ui_port" /api/services
	echo
	stop_port_forwards

	step "The demo is running"
	cat <<EOF
    Explore it with the guide's commands (kubectl and osm are ours):
      export KUBECONFIG=$DEMO_KUBECONFIG
      export PATH=$BIN:$(dirname "$(command -v kubectl)"):\$PATH
      kubectl get meshconfig osm-mesh-config -n osm-system -o jsonpath='{.spec.observability.tracing}{"\n"}'
      osm tracing check
      K8S_NAMESPACE=osm-system
      OSM_POD=\$(kubectl get pods -n "\$K8S_NAMESPACE" --no-headers  --selector app=jaeger | awk 'NR==1{print \$1}')
      kubectl port-forward -n "\$K8S_NAMESPACE" "\$OSM_POD"  16686:16686
      # then: curl http://localhost:16686/api/services (Jaeger's API; a source-built Jaeger has no UI pages)

    Not real here: kwok's pods run no containers, so no Envoy or bookstore app runs and no span is
    sent unless you post one; Envoy's admin port (osm proxy get) is served by a stand-in.
    Logs: $LOGS
    Stop everything: make demo-down
EOF
	STEP=""
}

case "${1:-up}" in
up) up ;;
down) exec "$ROOT/hack/demo-down.sh" ;;
*)
	echo "usage: $0 [up|down]" >&2
	exit 2
	;;
esac
