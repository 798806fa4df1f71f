#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The TAP testbed: one network namespace, sluice inside it owning a TAP
# device, the kernel side of the TAP as the outside world (clients and
# backends). Addresses come from 198.18.0.0/15 only; EAL never probes PCI.
#
#   namespace            $SL_NS (default sluice-tb)
#   TAP (made by sluice) sl0
#   kernel side          198.18.0.1/24
#   sluice               198.18.0.2 (from the config)
#   backends             198.18.0.11, .12, .13 port 8080 (sluice-backend)
#
# Usage:
#   testbed.sh up [--config FILE] [--workers N] [--no-backends] [--huge]
#   testbed.sh down
#   testbed.sh status
# Environment: SL_NS (namespace), SL_BUILD (build dir, default build/).
# State (PIDs, logs) lives in .run/$SL_NS/ at the repo root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ns=${SL_NS:-sluice-tb}
build=${SL_BUILD:-$top/build}
state=$top/.run/$ns
tap=sl0
host_ip=198.18.0.1
backends=(198.18.0.11 198.18.0.12 198.18.0.13)
backend_port=8080

log() { echo "testbed[$ns]: $*" >&2; }
nsx() { ip netns exec "$ns" "$@"; }

# Stop a process we started, by PID, gently then firmly; wait until it is gone.
stop_pid() {
	local pid=$1 name=$2 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	log "$name (pid $pid) ignored SIGTERM for 10 s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

down() {
	local f
	if [ -d "$state" ]; then
		for f in "$state"/backend-*.pid "$state"/sluice.pid; do
			[ -f "$f" ] || continue
			stop_pid "$(cat "$f")" "$(basename "$f" .pid)"
			rm -f "$f"
		done
	fi
	if ip netns list | grep -qw "^$ns"; then
		ip netns delete "$ns"
	fi
	rm -rf "$state"
}

up() {
	local config="" workers=1 start_backends=1 huge=0 i
	while [ $# -gt 0 ]; do
		case "$1" in
		--config) config=$(realpath "$2"); shift 2 ;;
		--workers) workers=$2; shift 2 ;;
		--no-backends) start_backends=0; shift ;;
		--huge) huge=1; shift ;;
		*) echo "testbed.sh up: unknown option '$1'" >&2; exit 2 ;;
		esac
	done
	if ip netns list | grep -qw "^$ns"; then
		echo "testbed.sh: namespace $ns exists already; run 'testbed.sh down' first" >&2
		exit 1
	fi
	[ -x "$build/apps/sluice/sluice" ] || { echo "testbed.sh: build sluice first" >&2; exit 1; }

	mkdir -p "$state"
	ip netns add "$ns"
	nsx ip link set lo up

	# All workers share the CPUs after the first; the main lcore is the control plane.
	local ncpu lcores k
	ncpu=$(nproc)
	lcores="0@0"
	for k in $(seq 1 "$workers"); do
		lcores+=",$k@$(((k - 1) % (ncpu > 1 ? ncpu - 1 : 1) + (ncpu > 1 ? 1 : 0)))"
	done
	local mem=(--no-huge -m 512)
	[ "$huge" = 1 ] && mem=()
	local args=(--lcores "$lcores" --no-pci --file-prefix "sl-$ns"
		"${mem[@]}" --vdev "net_tap0,iface=$tap" --log-level=pmd.net.tap:error -- )
	[ -n "$config" ] && args+=(--config "$config")
	log "starting sluice: ${args[*]}"
	# sluice's own PID goes to sluice.pid (bash execs it), its exit status to sluice.rc.
	rm -f "$state/sluice.rc" "$state/sluice.pid"
	(
		nsx bash -c 'echo $$ >"$0"; exec "$@"' "$state/sluice.pid" \
			"$build/apps/sluice/sluice" "${args[@]}" </dev/null >"$state/sluice.log" 2>&1
		echo $? >"$state/sluice.rc"
	) &
	for i in $(seq 1 50); do [ -s "$state/sluice.pid" ] && break; sleep 0.1; done

	for i in $(seq 1 100); do
		nsx ip link show "$tap" >/dev/null 2>&1 && break
		if ! kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null; then
			log "sluice exited during start-up:"; cat "$state/sluice.log" >&2; down; exit 1
		fi
		sleep 0.1
	done
	nsx ip link show "$tap" >/dev/null 2>&1 || { log "no $tap after 10 s"; down; exit 1; }
	nsx ip addr add "$host_ip/24" dev "$tap"
	for b in "${backends[@]}"; do nsx ip addr add "$b/32" dev "$tap"; done
	nsx ip link set "$tap" up

	for i in $(seq 1 100); do
		grep -q "sluice: ready" "$state/sluice.log" && break
		kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "sluice: ready" "$state/sluice.log"; then
		log "sluice did not become ready:"; cat "$state/sluice.log" >&2; down; exit 1
	fi

	if [ "$start_backends" = 1 ]; then
		local n=1
		for b in "${backends[@]}"; do
			nsx "$build/apps/sluice-backend/sluice-backend" --listen "$b:$backend_port" \
				--name "backend$n" </dev/null >"$state/backend-$n.log" 2>&1 &
			echo $! >"$state/backend-$n.pid"
			n=$((n + 1))
		done
	fi
	log "up: sluice pid $(cat "$state/sluice.pid"), log $state/sluice.log"
}

status() {
	if ! ip netns list | grep -qw "^$ns"; then echo "testbed $ns: down"; return 1; fi
	echo "testbed $ns: up"
	local f
	for f in "$state"/*.pid; do
		[ -f "$f" ] || continue
		if kill -0 "$(cat "$f")" 2>/dev/null; then s=running; else s=dead; fi
		echo "  $(basename "$f" .pid): pid $(cat "$f") $s"
	done
}

[ "$(id -u)" -eq 0 ] || { echo "testbed.sh: needs root (namespaces, TAP)" >&2; exit 1; }
cmd=${1:-}
shift || true
case "$cmd" in
up) up "$@" ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up [--config FILE] [--workers N] [--no-backends] [--huge] | down | status" >&2; exit 2 ;;
esac
