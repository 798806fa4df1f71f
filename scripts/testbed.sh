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
# With --impair "OPTIONS" the link is impaired (this kernel has no netem): the
# kernel-side addresses move to one end (sl0c) of a veth pair whose other end
# (sl0i) is unnumbered, and sl-impair (tests/tools/impair.c) relays frames
# between sl0 and sl0i, applying OPTIONS (e.g. "--loss 5 --delay 10"; see
# sl-impair --help). sl0 and sl0i carry no address, no ARP and no IPv6, so the
# namespace's kernel reaches sluice only through the relay:
#
#   sluice =TAP= sl0 <-> [sl-impair] <-> sl0i =veth= sl0c 198.18.0.1/24, .11-.13
#
# With --afp sluice gets the same wires as a kernel proxy instead of a TAP: it
# runs in a namespace of its own ($SL_NS-dp) and owns one end (sl0d) of a veth
# pair through DPDK's af_packet PMD (--vdev net_af_packet0,iface=sl0d,
# qdisc_bypass=1); sl0d is up and holds no address. The other end, sl0 in
# $SL_NS, holds the client and backend addresses as in TAP mode, so commands
# run in $SL_NS work unchanged. Checksum and segmentation offloads are off on
# both ends (a packet socket would otherwise see the sender's unfinished
# checksums). The config's `device: net_tap0` becomes `net_af_packet0` (a copy
# in .run/). The backends start before sluice, and --pre-start CMD runs (bash,
# with SL_NS and SL_NS_DP set) between the two: a test can leave state on the
# kernel side, e.g. TIME-WAIT from sluice's address, before sluice owns it.
#
#   [$SL_NS-dp: sluice =af_packet= sl0d] =veth= [$SL_NS: sl0 198.18.0.1/24, .11-.13]
#
# Usage:
#   testbed.sh up [--config FILE] [--workers N] [--no-backends] [--huge] [--impair "OPTIONS"]
#                 [--afp [--pre-start CMD]] [--lcores LIST]
#   testbed.sh down
#   testbed.sh status
# Environment: SL_NS (namespace), SL_BUILD (build dir, default build/),
# SL_IMPAIR (the relay, default $SL_BUILD/tests/tools/sl-impair), SL_AFP_FRAMES (--afp ring
# size), SL_WRAP (a command sluice runs under, e.g. "valgrind --tool=callgrind
# --callgrind-out-file=/tmp/cg.out"; start-up may then take up to 70 s).
# State (PIDs, logs) lives in .run/$SL_NS/ at the repo root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ns=${SL_NS:-sluice-tb}
build=${SL_BUILD:-$top/build}
state=$top/.run/$ns
tap=sl0
imp_a=sl0i # the relay's end of the veth pair
imp_b=sl0c # the kernel's end, with the addresses, when the link is impaired
ns_dp=$ns-dp # --afp: sluice's own namespace
afp_dev=sl0d # --afp: sluice's end of the veth pair (sl0 is the kernel's)
# --afp: frames in each of the socket's RX and TX rings (2 KB each; the PMD's default is 512).
# The kernel drops what does not fit in the RX ring, silently (DPDK 22.11 does not read the
# socket's PACKET_STATISTICS): 512 frames is less than one burst of 64 KB responses from the
# backends, and the lost segments cost RTOs. SL_AFP_FRAMES overrides (a multiple of 2).
afp_frames=${SL_AFP_FRAMES:-8192}
host_ip=198.18.0.1
backends=(198.18.0.11 198.18.0.12 198.18.0.13)
backend_port=8080

log() { echo "testbed[$ns]: $*" >&2; }
nsx() { ip netns exec "$ns" "$@"; }
ns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

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
		for f in "$state"/impair.pid "$state"/backend-*.pid "$state"/sluice.pid; do
			[ -f "$f" ] || continue
			stop_pid "$(cat "$f")" "$(basename "$f" .pid)"
			rm -f "$f"
		done
	fi
	if ns_exists "$ns"; then
		ip netns delete "$ns"
	fi
	if ns_exists "$ns_dp"; then
		ip netns delete "$ns_dp"
	fi
	rm -rf "$state"
	# EAL's runtime directory for this instance (--file-prefix sl-$ns).
	rm -rf "/var/run/dpdk/sl-$ns"
}

up() {
	local config="" workers=1 start_backends=1 huge=0 impair="" afp=0 pre_start="" lcores="" i
	while [ $# -gt 0 ]; do
		case "$1" in
		--config) config=$(realpath "$2"); shift 2 ;;
		--workers) workers=$2; shift 2 ;;
		--no-backends) start_backends=0; shift ;;
		--huge) huge=1; shift ;;
		--impair) impair=$2; shift 2 ;;
		--afp) afp=1; shift ;;
		--pre-start) pre_start=$2; shift 2 ;;
		--lcores) lcores=$2; shift 2 ;;
		*) echo "testbed.sh up: unknown option '$1'" >&2; exit 2 ;;
		esac
	done
	if ns_exists "$ns" || ns_exists "$ns_dp"; then
		echo "testbed.sh: namespace $ns exists already; run 'testbed.sh down' first" >&2
		exit 1
	fi
	if [ "$afp" = 1 ]; then
		[ -z "$impair" ] || { echo "testbed.sh: --afp and --impair do not combine" >&2; exit 2; }
		command -v ethtool >/dev/null || { echo "testbed.sh: --afp needs ethtool" >&2; exit 1; }
	elif [ -n "$pre_start" ]; then
		echo "testbed.sh: --pre-start needs --afp (in TAP mode sluice makes the link)" >&2
		exit 2
	fi
	[ -x "$build/apps/sluice/sluice" ] || { echo "testbed.sh: build sluice first" >&2; exit 1; }
	local impair_bin=${SL_IMPAIR:-$build/tests/tools/sl-impair}
	if [ -n "$impair" ]; then
		[ -x "$impair_bin" ] || {
			echo "testbed.sh: no $impair_bin (needs subdir('tools') in tests/meson.build)" >&2
			exit 1
		}
		command -v ethtool >/dev/null || { echo "testbed.sh: --impair needs ethtool" >&2; exit 1; }
	fi

	mkdir -p "$state"
	ip netns add "$ns"
	nsx ip link set lo up

	# All workers share the CPUs after the first; the main lcore is the control plane.
	local ncpu k
	ncpu=$(nproc)
	if [ -z "$lcores" ]; then
		lcores="0@0"
		for k in $(seq 1 "$workers"); do
			lcores+=",$k@$(((k - 1) % (ncpu > 1 ? ncpu - 1 : 1) + (ncpu > 1 ? 1 : 0)))"
		done
	fi
	local mem=(--no-huge -m 512)
	[ "$huge" = 1 ] && mem=()
	local vdev=(--vdev "net_tap0,iface=$tap" --log-level=pmd.net.tap:error)
	local sluice_ns=$ns
	if [ "$afp" = 1 ]; then
		vdev=(--vdev "net_af_packet0,iface=$afp_dev,qdisc_bypass=1,qpairs=$workers,framecnt=$afp_frames")
		sluice_ns=$ns_dp
		# The af_packet port is net_af_packet0: the config's TAP device is renamed in a copy.
		[ -n "$config" ] || config=$top/configs/tap-demo.yaml
		sed -E 's/^([[:space:]]*device:[[:space:]]*)net_tap0([[:space:]]|$)/\1net_af_packet0\2/' \
			"$config" >"$state/config.yaml"
		config=$state/config.yaml
		afp_up || { down; exit 1; }
		[ "$start_backends" = 1 ] && start_backends
		if [ -n "$pre_start" ]; then
			log "running the --pre-start command"
			SL_NS=$ns SL_NS_DP=$ns_dp bash -c "$pre_start" || {
				log "--pre-start command failed"; down; exit 1
			}
		fi
	fi
	local args=(--lcores "$lcores" --no-pci --file-prefix "sl-$ns"
		"${mem[@]}" "${vdev[@]}" -- )
	[ -n "$config" ] && args+=(--config "$config")
	log "starting sluice: ${args[*]}"
	# sluice's own PID goes to sluice.pid (bash execs it), its exit status to sluice.rc.
	rm -f "$state/sluice.rc" "$state/sluice.pid"
	(
		# shellcheck disable=SC2086 # SL_WRAP is a command line, split on purpose
		ip netns exec "$sluice_ns" bash -c 'echo $$ >"$0"; exec "$@"' "$state/sluice.pid" \
			${SL_WRAP:-} "$build/apps/sluice/sluice" "${args[@]}" </dev/null \
			>"$state/sluice.log" 2>&1
		echo $? >"$state/sluice.rc"
	) </dev/null >/dev/null 2>&1 &
	for i in $(seq 1 50); do [ -s "$state/sluice.pid" ] && break; sleep 0.1; done
	[ "$afp" = 1 ] && { wait_ready; log "up: sluice pid $(cat "$state/sluice.pid") in $ns_dp, log $state/sluice.log"; return 0; }

	for i in $(seq 1 100); do
		nsx ip link show "$tap" >/dev/null 2>&1 && break
		if ! kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null; then
			log "sluice exited during start-up:"; cat "$state/sluice.log" >&2; down; exit 1
		fi
		sleep 0.1
	done
	nsx ip link show "$tap" >/dev/null 2>&1 || { log "no $tap after 10 s"; down; exit 1; }
	local host_dev=$tap
	if [ -n "$impair" ]; then
		impair_up "$impair_bin" "$impair" || { down; exit 1; }
		host_dev=$imp_b
	fi
	# sluice speaks IPv4 only: no IPv6 chatter (MLD, ND) on the TAP's kernel side.
	nsx sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
	nsx ip addr add "$host_ip/24" dev "$host_dev"
	for b in "${backends[@]}"; do nsx ip addr add "$b/32" dev "$host_dev"; done
	nsx ip link set "$tap" up

	wait_ready
	[ "$start_backends" = 1 ] && start_backends
	log "up: sluice pid $(cat "$state/sluice.pid"), log $state/sluice.log"
}

wait_ready() {
	local _
	for _ in $(seq 1 $((${SL_WRAP:+6}00 + 100))); do
		grep -q "sluice: ready" "$state/sluice.log" && break
		kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "sluice: ready" "$state/sluice.log"; then
		log "sluice did not become ready:"; cat "$state/sluice.log" >&2; down; exit 1
	fi
}

start_backends() {
	local n=1 b
	for b in "${backends[@]}"; do
		# Not through nsx: a function in the background would record its subshell's PID.
		ip netns exec "$ns" "$build/apps/sluice-backend/sluice-backend" \
			--listen "$b:$backend_port" --name "backend$n" \
			</dev/null >"$state/backend-$n.log" 2>&1 &
		echo $! >"$state/backend-$n.pid"
		n=$((n + 1))
	done
	# Listening before anyone (a --pre-start command, a test) connects.
	for n in $(seq 1 50); do
		[ "$(nsx ss -Hltn "sport = :$backend_port" | wc -l)" -ge "${#backends[@]}" ] && return 0
		sleep 0.1
	done
	log "backends are not listening after 5 s"
}

# --afp: the veth pair between sluice's namespace and the kernel side, both ends up.
afp_up() {
	local dev
	ip netns add "$ns_dp"
	ip netns exec "$ns_dp" ip link set lo up
	nsx ip link add "$tap" type veth peer name "$afp_dev" netns "$ns_dp"
	nsx sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
	ip netns exec "$ns_dp" sysctl -qw "net.ipv6.conf.$afp_dev.disable_ipv6=1"
	nsx ethtool -K "$tap" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$ns_dp" ethtool -K "$afp_dev" tx off rx off tso off gso off gro off \
		>/dev/null 2>&1 || true
	for dev in "$ns:$tap" "$ns_dp:$afp_dev"; do
		if ip netns exec "${dev%%:*}" ethtool -k "${dev#*:}" |
			grep -Eq '^(tx-checksumming|rx-checksumming|generic-segmentation-offload|generic-receive-offload): on'; then
			log "cannot turn the offloads off on ${dev#*:}"
			return 1
		fi
	done
	nsx ip addr add "$host_ip/24" dev "$tap"
	for b in "${backends[@]}"; do nsx ip addr add "$b/32" dev "$tap"; done
	nsx ip link set "$tap" up
	ip netns exec "$ns_dp" ip link set "$afp_dev" up
}

# The impaired link: a veth pair next to the TAP and sl-impair relaying between sl0 and sl0i.
impair_up() {
	local bin=$1 opts=() dev
	read -ra opts <<<"$2"
	nsx ip link add "$imp_a" type veth peer name "$imp_b"
	for dev in "$tap" "$imp_a" "$imp_b"; do
		# No IPv6 chatter through the relay, and no kernel answers on the relayed ends:
		# without ARP and addresses, sl0 and sl0i ignore what passes (not addressed to them).
		nsx sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		# Frames must be whole and checksummed when the relay reads them: no TSO/GSO
		# super-frames and no checksum left to an offload that the relay would not do.
		nsx ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
	done
	if nsx ethtool -k "$imp_b" | grep -Eq '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload): on' ||
		nsx ethtool -k "$imp_a" | grep -Eq '^generic-receive-offload: on'; then
		log "cannot turn the offloads off on $imp_b/$imp_a; the relay would see super-frames"
		return 1
	fi
	nsx ip link set "$tap" arp off
	nsx ip link set "$imp_a" arp off
	nsx ip link set "$imp_a" up
	nsx ip link set "$imp_b" up
	log "starting sl-impair --a $tap --b $imp_a ${opts[*]}"
	# A simple command, not the nsx function: $! is then the relay itself (ip netns exec
	# execs it), not a subshell that a signal would kill while the relay lives on.
	ip netns exec "$ns" "$bin" --a "$tap" --b "$imp_a" "${opts[@]}" \
		</dev/null >"$state/impair.log" 2>&1 &
	echo $! >"$state/impair.pid"
	for _ in $(seq 1 50); do
		grep -q "sl-impair: ready" "$state/impair.log" && return 0
		kill -0 "$(cat "$state/impair.pid")" 2>/dev/null || break
		sleep 0.1
	done
	log "sl-impair did not start:"; cat "$state/impair.log" >&2
	return 1
}

status() {
	if ! ns_exists "$ns"; then echo "testbed $ns: down"; return 1; fi
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
*) echo "usage: $0 up [--config FILE] [--workers N] [--no-backends] [--huge] [--impair OPTIONS] [--afp [--pre-start CMD]] [--lcores LIST] | down | status" >&2; exit 2 ;;
esac
