#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sluice in containers: the image (Containerfile), the compose file (compose.yaml: sluice in
# TAP mode, the demo backends and Prometheus) and their test.
#
#   scripts/container.sh build   build localhost/sluice and localhost/sluice-prometheus
#   scripts/container.sh up      build if needed, start compose.yaml (project "sluice")
#   scripts/container.sh down    stop it and remove its containers and network
#   scripts/container.sh exec CMD...  run CMD in the running sluice container (e.g. curl)
#   scripts/container.sh test    build, start a project of its own, curl through sluice to the
#                                backends, read sluice's metrics through Prometheus, stop,
#                                check that nothing is left; prints image size, start-up time;
#                                exit status 3 (and the reason) when containers cannot run here
#
# No registry is reachable from the project's machines: unless SL_BASE names a base image
# (e.g. SL_BASE=docker.io/library/debian:bookworm-slim where a registry is), the base is made
# with `debootstrap --variant=minbase bookworm` from the mirror apt uses and imported as
# localhost/sluice-base:bookworm-KEY, KEY a hash of the recipe (suite, variant, mirror, apt
# sources): built once, reused while the recipe is the same.
#
# Environment: SL_ENGINE podman (default) or docker; SL_COMPOSE the compose command (default
# podman-compose, or `docker compose` with docker); SL_BASE as above; SL_BUILD_OPTS more
# options for `build` (e.g. --network host where the build's default network has no NAT). Podman runs with runc
# and no default ulimits (crun cannot set limits on these machines), from a containers.conf
# of this script's own (CONTAINERS_CONF), unless CONTAINERS_CONF is set already.
# Needs root and scripts/deps.sh container (podman, runc, podman-compose, debootstrap).
set -euo pipefail

# podman-compose 1.0.3 (Debian 12) passes `network_mode: service:NAME` to podman as it is and
# adds `--net PROJECT_default --network-alias SERVICE`, which podman refuses for a container
# that joins another's network namespace. This script is its --podman-path: with
# SL_PODMAN_SHIM=PROJECT set, it runs podman with service:NAME made container:PROJECT_NAME_1
# and without those two options. Docker compose understands service:NAME itself.
if [ -n "${SL_PODMAN_SHIM:-}" ]; then
	args=() shared=0
	for a in "$@"; do case "$a" in service:* | container:*) shared=1 ;; esac; done
	while [ $# -gt 0 ]; do
		case "$1" in
		service:*) args+=("container:${SL_PODMAN_SHIM}_${1#service:}_1") ;;
		--net | --network-alias) if [ "$shared" = 1 ]; then shift; else args+=("$1"); fi ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	exec podman "${args[@]}"
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
engine=${SL_ENGINE:-podman}
state=/var/tmp/sluice-container
image=localhost/sluice:latest
prom_image=localhost/sluice-prometheus:latest
project=sluice

log() { echo "container: $*" >&2; }
die() { log "$*"; exit 1; }

# --- the engine ----------------------------------------------------------------------------
engine_setup() {
	case "$engine" in
	podman)
		if [ -z "${CONTAINERS_CONF:-}" ]; then
			mkdir -p "$state"
			printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' \
				>"$state/containers.conf"
			export CONTAINERS_CONF=$state/containers.conf
		fi
		if [ -n "${SL_COMPOSE:-}" ]; then read -ra compose <<<"$SL_COMPOSE"; else compose=(podman-compose); fi
		;;
	docker)
		if [ -n "${SL_COMPOSE:-}" ]; then
			read -ra compose <<<"$SL_COMPOSE"
		elif docker compose version >/dev/null 2>&1; then
			compose=(docker compose)
		else
			compose=(docker-compose)
		fi
		;;
	*) die "SL_ENGINE must be podman or docker, not '$engine'" ;;
	esac
	command -v "$engine" >/dev/null || die "no $engine: run scripts/deps.sh container"
}
ctr() { "$engine" "$@"; }
export engine
export -f ctr

# --- the base image ------------------------------------------------------------------------
debian_mirror() {
	local m
	m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$m" ] || m=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	echo "$m"
}

# Prints the base image's name, building it first when it is not there.
base_image() {
	if [ -n "${SL_BASE:-}" ]; then
		echo "$SL_BASE"
		return 0
	fi
	local mirror key name t0
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || die "cannot find the Debian mirror apt uses (set SL_BASE to a base image)"
	key=$( {
		echo "debootstrap --variant=minbase bookworm $mirror"
		cat /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true
	} | sha256sum | cut -c1-12)
	name=localhost/sluice-base:bookworm-$key
	if ctr image exists "$name" 2>/dev/null || ctr image inspect "$name" >/dev/null 2>&1; then
		echo "$name"
		return 0
	fi
	command -v debootstrap >/dev/null || die "no debootstrap: run scripts/deps.sh container"
	t0=$SECONDS
	log "building the base image $name (debootstrap --variant=minbase bookworm, about a minute)"
	mkdir -p "$state"
	local root=$state/rootfs.$$
	rm -rf "$root"
	if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$state/debootstrap.log" 2>&1; then
		tail -n 5 "$state/debootstrap.log" >&2
		rm -rf "$root"
		die "debootstrap failed (log: $state/debootstrap.log)"
	fi
	# The image's apt uses the same mirror (and security suite) as this machine's.
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
		: >"$root/etc/apt/sources.list"
	fi
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	if ! tar -C "$root" -c . | ctr import - "$name" >/dev/null; then
		rm -rf "$root"
		die "$engine import of the base image failed"
	fi
	rm -rf "$root"
	log "base image $name built in $((SECONDS - t0)) s"
	echo "$name"
}

# --- build ---------------------------------------------------------------------------------
# Both images from the Containerfile: the runtime (sluice) and the Prometheus one. Layers are
# cached by the engine: a change to the sources rebuilds from the COPY of the tree on, the
# build dependencies and the runtime libraries stay cached while they are the same.
build() {
	local base t0 opts=()
	base=$(base_image)
	read -ra opts <<<"${SL_BUILD_OPTS:-}"
	# Podman builds OCI images, which drop the Containerfile's HEALTHCHECK (podman's health
	# checks need systemd timers, which these machines lack); Docker keeps it.
	t0=$SECONDS
	log "building $image from $base"
	ctr build "${opts[@]}" --build-arg "BASE=$base" --target runtime -t "$image" -f Containerfile . ||
		die "building $image failed"
	log "building $prom_image"
	ctr build "${opts[@]}" --build-arg "BASE=$base" --target prometheus -t "$prom_image" \
		-f Containerfile . || die "building $prom_image failed"
	log "images built in $((SECONDS - t0)) s; $image is $(image_size "$image")"
}

image_size() {
	local bytes
	bytes=$(ctr image inspect --format '{{.Size}}' "$1" 2>/dev/null || echo 0)
	awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }'
}

images_exist() {
	ctr image inspect "$image" >/dev/null 2>&1 && ctr image inspect "$prom_image" >/dev/null 2>&1
}

# --- compose -------------------------------------------------------------------------------
comp() {
	if [ "${compose[0]}" = podman-compose ]; then
		SL_PODMAN_SHIM=$project "${compose[@]}" --podman-path "$top/scripts/container.sh" \
			-p "$project" -f "$top/compose.yaml" "$@"
	else
		"${compose[@]}" -p "$project" -f "$top/compose.yaml" "$@"
	fi
}

# The ID of the project's running sluice container.
sluice_ctr() {
	ctr ps -q --filter "label=com.docker.compose.project=$project" \
		--filter "label=com.docker.compose.service=sluice" | head -n 1
}

up() {
	images_exist || build
	command -v "${compose[0]}" >/dev/null || die "no ${compose[0]}: run scripts/deps.sh container"
	comp up -d >"$state/compose-up-$project.log" 2>&1 || {
		cat "$state/compose-up-$project.log" >&2
		die "compose up failed"
	}
	local i c
	for i in $(seq 1 300); do
		c=$(sluice_ctr)
		[ -n "$c" ] && ctr exec "$c" curl -fsS -m 2 -o /dev/null http://127.0.0.1:1997/health 2>/dev/null && break
		[ "$i" = 300 ] && { [ -z "$c" ] || ctr logs "$c" >&2; die "sluice is not up after 30 s"; }
		sleep 0.1
	done
	log "up: sluice $c ready; try: scripts/container.sh exec curl -s http://198.18.0.2/"
}

down() {
	command -v "${compose[0]}" >/dev/null || die "no ${compose[0]}: run scripts/deps.sh container"
	comp down >"$state/compose-down-$project.log" 2>&1 || cat "$state/compose-down-$project.log" >&2
	leftovers_remove
}

# What compose may leave behind (a container that failed to stop, the project's network).
leftovers() {
	local kind
	ctr ps -aq --filter "label=com.docker.compose.project=$project" | sed 's/^/container /'
	if [ "$engine" = podman ]; then
		ctr pod ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null | sed 's/^/pod /'
	fi
	for kind in network volume; do
		ctr "$kind" ls -q --filter "label=com.docker.compose.project=$project" 2>/dev/null |
			sed "s/^/$kind /"
		ctr "$kind" ls -q 2>/dev/null | grep -x -- "${project}_default" | sed "s/^/$kind /" || true
	done
}
leftovers_remove() {
	local kind id
	leftovers | sort -u | while read -r kind id; do
		case "$kind" in
		container) ctr rm -f "$id" >/dev/null 2>&1 || true ;;
		pod) ctr pod rm -f "$id" >/dev/null 2>&1 || true ;;
		*) ctr "$kind" rm "$id" >/dev/null 2>&1 || true ;;
		esac
	done
}

# Can this machine run the test? Says why not (and returns 1) when it cannot: the engine, the
# compose tool or /dev/net/tun is missing, or the engine cannot run a container (e.g. nested
# inside a container that does not allow it).
can_run() {
	local base err
	command -v "$engine" >/dev/null || { log "cannot run here: $engine is not installed (scripts/deps.sh container)"; return 1; }
	command -v "${compose[0]}" >/dev/null || { log "cannot run here: ${compose[0]} is not installed (scripts/deps.sh container)"; return 1; }
	[ -c /dev/net/tun ] || { log "cannot run here: no /dev/net/tun for sluice's TAP device"; return 1; }
	# Before the base image: docker without its daemon fails here. (podman nested in CI's
	# container passes this and fails at the base image's import, overlay over overlayfs.)
	if ! err=$(ctr info 2>&1 >/dev/null) || grep -Eq 'level=(error|fatal)' <<<"$err"; then
		log "cannot run here: $engine info: $(echo "$err" | tail -n 1)"
		return 1
	fi
	base=$(base_image 2>"$state/can-run.log") || { cat "$state/can-run.log" >&2; log "cannot run here: no base image"; return 1; }
	if ! err=$(ctr run --rm --network none "$base" true 2>&1); then
		log "cannot run here: $engine cannot run a container: $(echo "$err" | tail -n 2)"
		return 1
	fi
}

# --- test ----------------------------------------------------------------------------------
# A compose project of its own (sluice-test-PID), so that a user's `up` is left alone.
run_test() {
	project=sluice-test-$$
	local pass=0 fail=0 c t0 t_up ms out i seen
	check() { # name command...
		local name=$1
		shift
		if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); echo "ok   - $name"; else fail=$((fail + 1)); echo "FAIL - $name"; fi
	}
	can_run || exit 3
	trap 'comp down >/dev/null 2>&1 || true; leftovers_remove' EXIT
	trap 'exit 143' TERM INT # test.sh's timeout: clean up all the same

	t0=$SECONDS
	build
	echo "figure: image build $((SECONDS - t0)) s (cached layers are reused)"
	echo "figure: image size $image $(image_size "$image"), $prom_image $(image_size "$prom_image")"
	# The runtime image holds no compiler and no build dependency.
	check "no compiler in $image" bash -c "! ctr run --rm --network none --entrypoint sh '$image' -c 'command -v gcc || command -v cc || command -v clang || command -v meson || command -v ninja || command -v pkg-config'"
	out=$(ctr run --rm --network none --entrypoint sh "$image" -c \
		"dpkg-query -W -f '\${Package}\n' | grep -E -- '-dev\$|^(gcc|gcc-[0-9]+|cpp|cpp-[0-9]+|binutils|make|meson|ninja-build|pkg-config|pkgconf)\$' || true")
	check "no -dev or toolchain package in $image${out:+ (found: $(echo $out))}" test -z "$out"
	check "sluice --check in $image" ctr run --rm --network none "$image" sluice --check --config /etc/sluice/tap-demo.yaml

	# The image alone, as README.md runs it: TAP mode, --no-huge, two capabilities' worth of
	# rights. Start-up: from `run` to sluice's "ready" (EAL, the TAP, the admin server).
	t_up=$(date +%s%N)
	c=$(ctr run -d --label "com.docker.compose.project=$project" --cap-add NET_ADMIN \
		--device /dev/net/tun "$image" 2>/dev/null) || c=""
	for i in $(seq 1 300); do
		[ -n "$c" ] || break
		ctr logs "$c" 2>&1 | grep -q 'sluice: ready' && break
		sleep 0.05
	done
	if [ -n "$c" ] && ctr logs "$c" 2>&1 | grep -q 'sluice: ready'; then
		echo "figure: start-up of the image alone (run to \"sluice: ready\") $((($(date +%s%N) - t_up) / 1000000)) ms"
		# No backend runs: any HTTP status (a 5xx) shows sluice's stack and proxy answering.
		out=$(ctr exec "$c" bash -c 'for i in $(seq 50); do ip -o addr show dev sl0 | grep -q 198.18.0.1/ && break; sleep 0.1; done
			curl -s -m 10 -o /dev/null -w "%{http_code}" http://198.18.0.2/' 2>/dev/null || true)
		check "the image alone answers HTTP on its TAP at 198.18.0.2 (status ${out:-none}, no backends)" \
			grep -Eq '^[1-5][0-9][0-9]$' <<<"$out"
		ctr stop -t 20 "$c" >/dev/null 2>&1 || true
		check "the image alone stops with exit status 0 on SIGTERM" \
			test "$(ctr inspect --format '{{.State.ExitCode}}' "$c" 2>/dev/null)" = 0
	else
		fail=$((fail + 1)); echo "FAIL - the image alone starts sluice (TAP, --no-huge)"
		[ -z "$c" ] || ctr logs "$c" 2>&1 | tail -n 20
	fi
	[ -z "$c" ] || ctr rm -f "$c" >/dev/null 2>&1 || true

	# The compose project, with Prometheus published on a port of the test's own.
	local port=$((20000 + $$ % 20000))
	while ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; do port=$((port + 1)); done
	export PROMETHEUS_PORT=$port
	# Start-up: from `compose up` to the first response proxied by sluice.
	t_up=$(date +%s%N)
	comp up -d >"$state/compose-up-$project.log" 2>&1 || { cat "$state/compose-up-$project.log" >&2; fail=$((fail + 1)); }
	c=""
	for i in $(seq 1 600); do
		c=$(sluice_ctr)
		[ -n "$c" ] && ctr exec "$c" curl -fsS -m 2 -o /dev/null http://198.18.0.2/ 2>/dev/null && break
		c=""
		sleep 0.1
	done
	if [ -n "$c" ]; then
		ms=$((($(date +%s%N) - t_up) / 1000000))
		echo "figure: start-up (compose up to the first proxied response) $ms ms"
		pass=$((pass + 1)); echo "ok   - sluice in $project proxies to a backend"
	else
		fail=$((fail + 1)); echo "FAIL - sluice in $project proxies to a backend within 60 s"
		c=$(sluice_ctr)
		[ -z "$c" ] || ctr logs "$c" 2>&1 | tail -n 30
	fi
	if [ -n "$c" ]; then
		check "sluice's log says ready" bash -c "ctr logs '$c' 2>&1 | grep -q 'sluice: ready'"
		check "no IPv6 on the TAP's kernel side (compose.yaml's sysctl)" \
			test "$(ctr exec "$c" cat /proc/sys/net/ipv6/conf/sl0/disable_ipv6 2>/dev/null)" = 1
		# Round robin over the three backends: six requests reach each one twice.
		seen=$(for i in 1 2 3 4 5 6; do ctr exec "$c" curl -s -m 5 http://198.18.0.2/; echo; done |
			grep -o '"backend[0-9]"' | sort | uniq -c | awk '{ printf "%s%s:%s", s, $2, $1; s = " " }')
		echo "       six requests through sluice: ${seen:-none}"
		check "round robin reaches backend1, backend2 and backend3 twice each" \
			test "$seen" = '"backend1":2 "backend2":2 "backend3":2'
		check "/cart/ (consistent hashing) answers 200" \
			test "$(ctr exec "$c" curl -s -m 5 -o /dev/null -w '%{http_code}' http://198.18.0.2/cart/)" = 200
		check "the web UI and its Chart.js are served (/ui/, /ui/chart.min.js)" bash -c \
			"ctr exec '$c' curl -fsS -m 5 -o /dev/null http://127.0.0.1:1997/ui/ && ctr exec '$c' curl -fsS -m 5 http://127.0.0.1:1997/ui/chart.min.js | head -c 300 | grep -qi chart"
		check "sluice's own /metrics counts the requests" \
			bash -c "ctr exec '$c' curl -s -m 5 http://127.0.0.1:1997/metrics | grep -Eq '^sluice_http_requests_total\{.*\} [1-9]'"
		# Prometheus (its own container, in sluice's network namespace) scrapes sluice.
		out=""
		for i in $(seq 1 60); do
			out=$(ctr exec "$c" curl -s -m 2 -G http://127.0.0.1:9090/api/v1/query \
				--data-urlencode 'query=sum(sluice_http_requests_total{job="sluice"})' 2>/dev/null || true)
			echo "$out" | grep -Eq '"value":\[[0-9.]+,"[1-9][0-9]*"\]' && break
			sleep 1
		done
		echo "       Prometheus: ${out:-no answer}"
		check "Prometheus scraped sluice_http_requests_total > 0 from sluice" \
			bash -c "echo '$out' | grep -Eq '\"value\":\[[0-9.]+,\"[1-9][0-9]*\"\]'"
		check "Prometheus sees the target up, from the host (127.0.0.1:$port)" bash -c "curl -s -m 2 -G http://127.0.0.1:$port/api/v1/query --data-urlencode 'query=up{job=\"sluice\"}' | grep -q '\"1\"\]'"
	fi

	c=$(ctr ps -aq --filter "label=com.docker.compose.project=$project" --filter "label=com.docker.compose.service=sluice" | head -n 1)
	ctr stop -t 20 "$c" >/dev/null 2>&1 || true
	check "sluice stops with exit status 0" test "$(ctr inspect --format '{{.State.ExitCode}}' "$c" 2>/dev/null)" = 0
	down
	out=$(leftovers | sort -u)
	check "nothing of $project is left (containers, pods, networks, volumes)${out:+: $(echo $out)}" test -z "$out"
	trap - EXIT TERM INT
	if [ "$fail" -eq 0 ]; then
		rm -f "$state/compose-up-$project.log" "$state/compose-down-$project.log"
	else
		echo "container test: compose's output is in $state/compose-{up,down}-$project.log"
	fi
	echo "container test: images $image and $prom_image stay cached (podman rmi to remove them)"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

cmd=${1:-}
shift || true
[ "$(id -u)" -eq 0 ] || die "run as root (podman as root; TAP devices)"
mkdir -p "$state"
case "$cmd" in
base) engine_setup; base_image ;;
build) engine_setup; build ;;
up) engine_setup; up ;;
down) engine_setup; down; log "down" ;;
exec)
	engine_setup
	c=$(sluice_ctr)
	[ -n "$c" ] || die "sluice is not running (scripts/container.sh up)"
	ctr exec "$c" "$@"
	;;
test) engine_setup; run_test ;;
*) sed -n '3,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0" >&2; exit 2 ;;
esac
