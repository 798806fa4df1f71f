#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The sluice image's entry point (/usr/local/bin/sluice-entrypoint).
#
#   (no arguments)            sluice in TAP mode with $SLUICE_EAL or the default EAL arguments
#                             and $SLUICE_CONFIG (default /etc/sluice/tap-demo.yaml)
#   -EAL-ARGS... [-- APP...]  sluice with these EAL arguments (and these application arguments;
#                             without `--`, `-- --config $SLUICE_CONFIG`)
#   demo-backends             the three demo backends (sluice-backend) on $SLUICE_BACKENDS,
#                             once those addresses exist (run in sluice's network namespace)
#   anything else             run as given (sluicectl, sluice --check, sh ...)
#
# EAL: always --no-pci unless the arguments have -a/--allow (sluice refuses otherwise), and a
# --file-prefix unique to the container (its host name) unless one is given. Memory: hugepages
# when /dev/hugepages is a hugetlbfs mount with free pages, else --no-huge -m $SLUICE_MEM.
# TAP mode (a --vdev net_tap0,iface=IF among the EAL arguments): once sluice has made IF, its
# kernel side gets $SLUICE_TAP_ADDRS and goes up; the container's network namespace is then the
# TAP's "outside world" (clients and backends), as scripts/testbed.sh makes it on a host.
#
# Environment (defaults fit configs/tap-demo.yaml):
#   SLUICE_CONFIG     /etc/sluice/tap-demo.yaml
#   SLUICE_EAL        EAL arguments replacing the default TAP ones
#   SLUICE_LCORES     --lcores value (default 0@0,1@1 with 2+ CPUs, else 0@0,1@0)
#   SLUICE_MEM        MB of memory with --no-huge (512)
#   SLUICE_TAP_ADDRS  198.18.0.1/24 198.18.0.11/32 198.18.0.12/32 198.18.0.13/32
#   SLUICE_BACKENDS   198.18.0.11:8080 198.18.0.12:8080 198.18.0.13:8080
set -euo pipefail

config=${SLUICE_CONFIG:-/etc/sluice/tap-demo.yaml}
tap_addrs=${SLUICE_TAP_ADDRS:-198.18.0.1/24 198.18.0.11/32 198.18.0.12/32 198.18.0.13/32}
log() { echo "sluice-entrypoint: $*" >&2; }

demo_backends() {
	local listen pids=() n=1 a i
	read -ra listen <<<"${SLUICE_BACKENDS:-198.18.0.11:8080 198.18.0.12:8080 198.18.0.13:8080}"
	trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait; exit 0' TERM INT
	for a in "${listen[@]}"; do
		# The addresses are on the TAP's kernel side, which exists once sluice has started.
		for i in $(seq 1 600); do
			ip -o addr show | grep -q " ${a%:*}/" && break
			[ "$i" = 600 ] && { log "no address ${a%:*} after 60 s (is sluice up?)"; exit 1; }
			sleep 0.1
		done
		sluice-backend --listen "$a" --name "backend$n" &
		pids+=($!)
		n=$((n + 1))
	done
	log "demo backends on ${listen[*]}"
	wait -n "${pids[@]}" || true
	log "a backend exited"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	exit 1
}

# Does the argument list ($@) contain one of the options in $1 (space separated)?
has_opt() {
	local want=" $1 " a
	shift
	for a in "$@"; do
		[ "$a" = -- ] && return 1
		case "$want" in *" ${a%%=*} "*) return 0 ;; esac
	done
	return 1
}

run_sluice() {
	local eal=() app=() seen_sep=0 a
	if [ $# -eq 0 ]; then
		if [ -n "${SLUICE_EAL:-}" ]; then
			read -ra eal <<<"$SLUICE_EAL"
		else
			local lcores=${SLUICE_LCORES:-}
			if [ -z "$lcores" ]; then
				if [ "$(nproc)" -ge 2 ]; then lcores=0@0,1@1; else lcores=0@0,1@0; fi
			fi
			eal=(--lcores "$lcores" --vdev "net_tap0,iface=sl0" --log-level=pmd.net.tap:error)
		fi
	else
		for a in "$@"; do
			if [ "$seen_sep" = 1 ]; then app+=("$a"); elif [ "$a" = -- ]; then seen_sep=1; else eal+=("$a"); fi
		done
	fi
	[ "$seen_sep" = 1 ] || app=(--config "$config")
	has_opt "--no-pci -a --allow" "${eal[@]}" || eal+=(--no-pci)
	has_opt "--file-prefix" "${eal[@]}" || eal+=(--file-prefix "sluice-$(hostname)")
	if ! has_opt "--no-huge --in-memory -m --socket-mem" "${eal[@]}"; then
		local free
		free=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
		if awk '$2 == "/dev/hugepages" && $3 == "hugetlbfs" { f = 1 } END { exit !f }' /proc/mounts &&
			[ "${free:-0}" -gt 0 ]; then
			log "hugepages: $free free in /dev/hugepages"
		else
			eal+=(--no-huge -m "${SLUICE_MEM:-512}")
		fi
	fi
	# TAP mode: the interface sluice will make, from --vdev net_tapN,iface=IF.
	local tap=""
	for a in "${eal[@]}"; do
		case "$a" in net_tap*iface=*) tap=${a#*iface=}; tap=${tap%%,*} ;; esac
	done

	log "sluice ${eal[*]} -- ${app[*]}"
	local pid="" got_signal=0
	# PID 1 gets no default signal action: without this trap, SIGTERM would be ignored.
	trap 'got_signal=1; [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null' TERM INT
	sluice "${eal[@]}" -- "${app[@]}" </dev/null &
	pid=$!
	[ "$got_signal" = 0 ] || kill -TERM "$pid"
	if [ -n "$tap" ]; then
		local i
		for i in $(seq 1 300); do
			ip link show "$tap" >/dev/null 2>&1 && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if ip link show "$tap" >/dev/null 2>&1; then
			# sluice speaks IPv4 only: no IPv6 chatter on the TAP's kernel side. /proc/sys is
			# read-only in most containers: compose.yaml sets net.ipv6.conf.default instead.
			echo 1 2>/dev/null >"/proc/sys/net/ipv6/conf/$tap/disable_ipv6" || true
			for a in $tap_addrs; do ip addr add "$a" dev "$tap"; done
			ip link set "$tap" up
			log "TAP $tap up: $tap_addrs"
		elif kill -0 "$pid" 2>/dev/null; then
			log "sluice made no $tap in 30 s (devices: --device /dev/net/tun, cap NET_ADMIN?)"
		fi
	fi
	local rc=0
	wait "$pid" || rc=$?
	# A signal interrupts the wait (status > 128): wait again for sluice's own exit status.
	if [ "$got_signal" = 1 ] && [ "$rc" -gt 128 ]; then
		rc=0
		wait "$pid" || rc=$?
	fi
	exit "$rc"
}

case "${1:-}" in
demo-backends) demo_backends ;;
"" | -*) run_sluice "$@" ;;
*) exec "$@" ;;
esac
