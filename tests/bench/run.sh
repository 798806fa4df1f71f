#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmarks: sluice's userspace TCP stack next to the Linux kernel's, measured in the same run
# with the same client, printed as a table of figures and ratios. No figure passes or fails.
#
# Topology (all removed on every exit path; addresses from 198.18.0.0/15 only):
#   sluice:  namespace sl-bench-<pid>, the TAP testbed (scripts/testbed.sh): sluice with one
#            worker on a TAP (sl0), 198.18.0.2, echo 7 / discard 9 / chargen 19
#            (tests/bench/bench.yaml); the client on the kernel side, 198.18.0.1.
#   Linux:   namespaces slb-cli-<pid> (198.18.1.1, vc0) and slb-srv-<pid> (198.18.1.2, vs0)
#            joined by a veth pair; sl-tcpbench's epoll server gives the same three services.
# The client (sl-tcpbench, tests/bench/tcpbench.c) is pinned to CPU 0, sluice's worker
# (testbed lcore 1) and the Linux server to CPU 1, when there are two CPUs or more.
#
# Measurements: 1 bulk MB/s each way; 2 short connections per second; 3 memory per idle
# connection; 4 server CPU per packet in a discard stream. Whole run: about 3 minutes.
#
# usage: tests/bench/run.sh [BUILD_DIR]     (default build/; needs root)
# Environment: BENCH_RUNS (5), BENCH_SECONDS (3), BENCH_PARALLEL (32),
#              BENCH_IDLE_CONNS (5000), BENCH_PIN (1; 0 = let the scheduler place everything),
#              BENCH_PERF (1; 0 = no perf sampling), BENCH_KEEP (a file to keep the raw
#              per-run records in).
# Exit status 0 unless a step could not run at all.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/bench
build=$(realpath -m "${1:-$top/build}")
TB_NAME=bench
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

runs=${BENCH_RUNS:-5}
secs=${BENCH_SECONDS:-3}
parallel=${BENCH_PARALLEL:-32}
idle_n=${BENCH_IDLE_CONNS:-5000}
pin=${BENCH_PIN:-1}

in_range() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		tb_die "$1 must be a number from $3 to $4, not '$2'"
	fi
}
in_range BENCH_RUNS "$runs" 1 15
in_range BENCH_SECONDS "$secs" 1 30
in_range BENCH_PARALLEL "$parallel" 1 1000
in_range BENCH_IDLE_CONNS "$idle_n" 100 12000

tb_need_root
export SL_NS=sl-bench-$$
export ns_cli=slb-cli-$$
export ns_srv=slb-srv-$$
sl_ip=198.18.0.2
cli_ip=198.18.1.1
srv_ip=198.18.1.2
state=$top/.run/$SL_NS
work=$(mktemp -d /tmp/sl-bench.XXXXXX)
results=$work/results
tb_on_exit "rm -rf '$work'"
# BENCH_KEEP=FILE keeps the raw records (one line per run) for a closer look.
[ -n "${BENCH_KEEP:-}" ] && tb_on_exit "cp '$work/results' '$BENCH_KEEP'"
failed=0
live_pid="" # the background client of the moment, stopped on the way out if still running
# shellcheck disable=SC2016 # expanded when the cleanup runs
tb_on_exit '[ -z "$live_pid" ] || tb_stop_pid "$live_pid"'

# ---- prerequisites: scripts/deps.sh installs what is missing (perf included) ----

need_packages() {
	"$top/scripts/deps.sh" bench >&2 || tb_die "scripts/deps.sh bench failed"
}

build_all() {
	if [ ! -x "$build/apps/sluice/sluice" ]; then
		if [ -f "$build/build.ninja" ]; then
			ninja -C "$build" >&2 || tb_die "ninja -C $build failed"
		else
			{ meson setup "$build" "$top" >&2 && ninja -C "$build" >&2; } ||
				tb_die "cannot build sluice in $build"
		fi
	fi
	mkdir -p "$build/tests/bench"
	tool=$build/tests/bench/sl-tcpbench
	connmem=$build/tests/bench/sl-bench-connmem
	# Built next to a temporary name and moved: a concurrent run never sees half a binary.
	if [ ! -x "$tool" ] || [ "$here/tcpbench.c" -nt "$tool" ]; then
		{ gcc -O2 -std=gnu11 -Wall -Wextra -o "$tool.$$" "$here/tcpbench.c" &&
			mv "$tool.$$" "$tool"; } || tb_die "cannot build sl-tcpbench"
	fi
	bench_build_connmem "$build" "$top" || tb_die "cannot build sl-bench-connmem"
}

# ---- helpers ----

rec() { echo "$*" >>"$results"; }
not_measured() { rec "kind=failed what=${1// /_}"; tb_log "not measured: $1"; failed=1; }
kv() { # KEY "WORDS": the value of KEY=value among the words, or nan
	local k=$1 w
	# shellcheck disable=SC2086 # split into words on purpose
	for w in $2; do
		[ "${w%%=*}" = "$k" ] && { echo "${w#*=}"; return; }
	done
	echo nan
}
nsx_tb() { ip netns exec "$SL_NS" "$@"; }
nsx_cli() { ip netns exec "$ns_cli" "$@"; }
nsx_srv() { ip netns exec "$ns_srv" "$@"; }
# The client: pinned, bounded in time, one line of figures on stdout.
client() { # NS ARGS...
	local ns=$1
	shift
	ip netns exec "$ns" timeout -k 5 $((secs + 40)) "${cpu_cli[@]}" "$tool" "$@" \
		2>>"$work/client.err"
}
cpu_busy() { # CPU ("" = all): busy clock ticks (user nice system irq softirq) so far
	awk -v c="cpu$1" '$1 == c { v = $2 + $3 + $4 + $7 + $8 } END { print v + 0 }' /proc/stat
}
sl_pid() { cat "$state/sluice.pid"; }
sl_stats() { # key=value figures from a fresh stats line
	local log=$state/sluice.log before
	before=$(grep -c '^stats: ' "$log")
	kill -USR1 "$(sl_pid)" 2>/dev/null || return 1
	tb_wait_for "[ \$(grep -c '^stats: ' '$log') -gt $before ]" 5 || return 1
	grep '^stats: ' "$log" | tail -1 | cut -d' ' -f2- | python3 "$here/report.py" sluice-stats
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
sockmem() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' \
	/proc/net/sockstat; }
srv_bulk_lines() { grep -c '^bulk ' "$work/server.out" 2>/dev/null || echo 0; }
# The Linux server's figures for the bulk connection that closed after N earlier ones.
srv_bulk_after() {
	tb_wait_for "[ \$(srv_bulk_lines) -gt $1 ]" 5 || return 1
	grep '^bulk ' "$work/server.out" | tail -1
}
set_rps() { # 1 = each side's receive work on its own CPU, 0 = off (the default)
	[ "$pinned" = yes ] || return 0
	local a=0 b=0 c=0
	[ "$1" = 1 ] && { a=1; b=2; c=1; }
	nsx_cli sh -c "echo $a > /sys/class/net/vc0/queues/rx-0/rps_cpus"
	nsx_srv sh -c "echo $b > /sys/class/net/vs0/queues/rx-0/rps_cpus"
	nsx_tb sh -c "echo $c > /sys/class/net/sl0/queues/rx-0/rps_cpus"
}
veth_offloads() { # on|off
	local g=off
	[ "$1" = off ] || g=$veth_gro
	nsx_cli ethtool -K vc0 tso "$1" gso "$1" gro "$g" >/dev/null 2>&1
	nsx_srv ethtool -K vs0 tso "$1" gso "$1" gro "$g" >/dev/null 2>&1
}

# ---- set-up ----

setup() {
	local i
	if [ "$(nproc)" -ge 2 ] && [ "$pin" = 1 ]; then
		pinned=yes
		srv_cpu=1
		cpu_cli=(taskset -c 0)
		cpu_srv=(taskset -c 1)
	else
		pinned=no
		srv_cpu="" # the whole machine: client and server together
		cpu_cli=()
		cpu_srv=()
	fi
	# sluice runs from a copy of the binary: others may rebuild the shared build dir meanwhile,
	# and perf must find the very binary that runs to name its functions.
	mkdir -p "$work/build/apps/sluice"
	cp "$build/apps/sluice/sluice" "$work/build/apps/sluice/" || tb_die "cannot copy sluice"
	export SL_BUILD=$work/build
	# sluice's EAL runtime directory (the testbed's file prefix) goes too.
	tb_on_exit "rm -rf '/var/run/dpdk/sl-$SL_NS'"
	tb_on_exit "'$top/scripts/testbed.sh' down"
	"$top/scripts/testbed.sh" up --workers 1 --no-backends --config "$here/bench.yaml" >&2 ||
		tb_die "the sluice testbed did not come up"

	tb_netns_add "$ns_cli"
	tb_netns_add "$ns_srv"
	# Made inside the client namespace, the peer end moved into the server's: never in the
	# host's namespace.
	ip -n "$ns_cli" link add vc0 type veth peer name vs0 netns "$ns_srv" ||
		tb_die "cannot create the veth pair"
	ip -n "$ns_cli" addr add "$cli_ip/24" dev vc0
	ip -n "$ns_srv" addr add "$srv_ip/24" dev vs0
	for i in "$ns_cli" "$ns_srv"; do ip -n "$i" link set lo up; done
	ip -n "$ns_cli" link set vc0 up
	ip -n "$ns_srv" link set vs0 up
	veth_gro=$(nsx_cli ethtool -k vc0 | awk '/^generic-receive-offload:/ { print $2 }')
	[ -n "$veth_gro" ] || veth_gro=off
	# Clients close first and keep TIME-WAIT: many ports, reused after a second (timestamps).
	for i in "$SL_NS" "$ns_cli"; do
		ip netns exec "$i" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" \
			net.ipv4.tcp_tw_reuse=1
	done

	ip netns exec "$ns_srv" "${cpu_srv[@]}" "$tool" server "$srv_ip" 7 9 19 900 \
		</dev/null >"$work/server.out" 2>&1 &
	srv_pid=$!
	tb_on_exit "tb_stop_pid $srv_pid"
	tb_wait_for "grep -q '^ready' '$work/server.out'" 5 ||
		tb_die "the Linux server did not start"
	nsx_cli ping -c 1 -W 2 "$srv_ip" >/dev/null 2>&1 || tb_die "no route over the veth pair"
	nsx_tb ping -c 1 -W 2 "$sl_ip" >/dev/null 2>&1 || tb_die "sluice does not answer ping"
}

background() { # what else keeps the CPUs busy, in %, over a second in which we are quiet
	local c0 c1
	c0=$(cpu_busy 0)
	c1=$(cpu_busy 1)
	sleep 1
	echo "$((($(cpu_busy 0) - c0) * 100 / $(getconf CLK_TCK)))" \
		"$((($(cpu_busy 1) - c1) * 100 / $(getconf CLK_TCK)))"
}

environment() {
	local b0 b1
	read -r b0 b1 < <(background)
	local model
	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	rec "kind=env cpus=$(nproc) model=${model// /_} kernel=$(uname -r)" \
		"clk_tck=$(getconf CLK_TCK) runs=$runs secs=$secs parallel=$parallel" \
		"pinned=$pinned bg_cpu0=$b0 bg_cpu1=$b1"
	local cm
	local prefix=sl-bench-connmem-$$
	cm=$("$connmem" 65536 "$prefix" 2>>"$work/connmem.err")
	local rc=$?
	rm -rf "/var/run/dpdk/$prefix" # EAL's runtime directory for it
	if [ $rc -eq 0 ]; then
		rec "kind=connmem $cm"
	else
		not_measured "sluice's reserved bytes per connection (sl-bench-connmem)"
	fi
}

# ---- 3: memory per idle connection ----

mem_one() { # sluice|linux NS HOST
	local sys=$1 ns=$2 host=$3 pid rss_pid slab0 slab1 sock0 sock1 rss0 rss1 s0="" s1="" out
	if [ "$sys" = sluice ]; then rss_pid=$(sl_pid); s0=$(sl_stats); else rss_pid=$srv_pid; fi
	slab0=$(python3 "$here/report.py" slab)
	sock0=$(sockmem)
	rss0=$(rss_kb "$rss_pid")
	ip netns exec "$ns" timeout -k 5 120 "${cpu_cli[@]}" "$tool" idle "$host" 7 "$idle_n" 60 \
		</dev/null >"$work/idle-$sys.out" 2>&1 &
	pid=$!
	live_pid=$pid
	if ! tb_wait_for "grep -q '^ready' '$work/idle-$sys.out'" 70; then
		tb_stop_pid "$pid" 10
		live_pid=""
		not_measured "idle connections to $sys"
		return
	fi
	sleep 1 # delayed ACKs and the last echoes settle
	slab1=$(python3 "$here/report.py" slab)
	sock1=$(sockmem)
	rss1=$(rss_kb "$rss_pid")
	[ "$sys" = sluice ] && s1=$(sl_stats)
	out=$(head -1 "$work/idle-$sys.out")
	tb_stop_pid "$pid" 10
	live_pid=""
	local line
	line="kind=mem sys=$sys open=$(kv open "$out") failed=$(kv failed "$out")"
	line+=" rss_delta_kb=$((rss1 - rss0)) sockmem_delta=$((sock1 - sock0))"
	local w
	for w in $slab1; do
		case "${w%%=*}" in
		objsize_*) line+=" $w" ;;
		*)
			local before
			before=$(kv "${w%%=*}" "$slab0")
			[ "$before" = nan ] && before=0
			line+=" ${w%%=*}=$((${w#*=} - before))"
			;;
		esac
	done
	if [ "$sys" = sluice ]; then
		line+=" conns=$(kv conns "$s1")"
		local m0 m1
		m0=$(kv mbufs_in_use "$s0")
		m1=$(kv mbufs_in_use "$s1")
		[ "$m1" != nan ] && [ "$m0" != nan ] && line+=" mbufs_delta=$((m1 - m0))"
	fi
	rec "$line"
	if [ "$(kv failed "$out")" != 0 ]; then
		tb_log "$sys: $(kv failed "$out") of $idle_n idle connections failed to open"
	fi
	# Let the connections close before the next measurement.
	[ "$sys" = sluice ] && tb_wait_for "[ \"\$(kv conns \"\$(sl_stats)\")\" = 0 ]" 10
	sleep 0.5
}

# ---- 1: bulk throughput ----

bulk_one() { # sluice|linux send|recv RUN
	local sys=$1 dir=$2 run=$3 port=9 out
	[ "$dir" = recv ] && port=19
	if [ "$sys" = sluice ]; then
		out=$(client "$SL_NS" "$dir" "$sl_ip" "$port" "$secs")
	else
		out=$(client "$ns_cli" "$dir" "$srv_ip" "$port" "$secs")
	fi || { tb_log "bulk $dir to $sys, run $run: client failed"; return 1; }
	rec "kind=bulk sys=$sys dir=$dir run=$run $out"
}

# ---- 2: connections per second ----

cps_one() { # sluice|linux RUN
	local sys=$1 run=$2 out host=$srv_ip ns=$ns_cli
	[ "$sys" = sluice ] && { host=$sl_ip; ns=$SL_NS; }
	out=$(client "$ns" cps "$host" 7 "$secs" "$parallel") ||
		{ tb_log "connections to $sys, run $run: client failed"; return 1; }
	rec "kind=cps sys=$sys run=$run $out"
}

# ---- 4: CPU per packet (RPS on: CPU 1 holds the server side and nothing else of ours) ----

# Packets so far, read at once (no signal round trip): sluice's frames as the kernel counts
# them on sl0; the Linux server socket's segments (ss, as in TCP_INFO).
# shellcheck disable=SC2317 # called from the bash -c command that perf runs (export -f)
window_count() { # sluice|linux
	if [ "$1" = sluice ]; then
		nsx_tb sh -c 'cd /sys/class/net/sl0/statistics && cat rx_packets tx_packets' |
			awk '{ n += $1 } END { print n + 0 }'
	else
		nsx_srv ss -tinH state established "( sport = :9 )" | awk '
			{ for (i = 1; i <= NF; i++)
				if ($i ~ /^segs_(in|out):/) { split($i, a, ":"); n += a[2] } }
			END { print n + 0 }'
	fi
}
export -f window_count cpu_busy nsx_tb nsx_srv

worker_tid() {
	local t
	for t in /proc/"$(sl_pid)"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == *worker* ]] && { echo "${t##*/}"; return; }
	done
}
# perf samples of the server's CPU, split by whose they are. Ours: the target thread (sluice's
# worker, the Linux server), ksoftirqd on that CPU and interrupt work that ran in the idle task
# (the Linux server's receive path, raised by RPS while it sleeps). For ours, the share of the
# kernel, the TAP PMD, sluice and DPDK, the rest, and the test service's own functions.
perf_split() { # DATA TARGET_TID
	local ksoft
	ksoft=$(pgrep -x "ksoftirqd/$srv_cpu" | head -1)
	perf script -i "$1" -F tid,period,ip,sym,dso 2>/dev/null |
		awk -v w="$2" -v k="${ksoft:-x}" '
		{ t = $1; per = $2; dso = $NF; sym = (NF >= 5 ? $4 : "") }
		t != w && t != k && !(t == 0 && sym !~ /idle|halt|mwait/) { next }
		{ ns += per }
		t == w && dso ~ /kernel/ { kern += per; next }
		t == w && dso ~ /net_tap/ { tap += per; next }
		t == w && (dso ~ /\/sluice\)$/ || dso ~ /librte_/) { own += per
			if (sym ~ /^(chargen_fill|sl_chargen_byte|discard_readable)$/)
				svc += per
			next }
		t == w { other += per; next }
		{ irq += per }
		END { if (ns == 0) ns = 1
			printf "ours_ns=%d kernel=%.1f tap=%.1f own=%.1f", ns, 100 * kern / ns,
				100 * tap / ns, 100 * own / ns
			printf " libc=%.1f service=%.1f irq=%.1f", 100 * other / ns, 100 * svc / ns,
				100 * irq / ns }'
}

# A stream with a measurement window inside it. The client starts, and after 0.5 s perf runs a
# command that reads the counters (packets, CPU ticks), sleeps secs - 1 and reads them again:
# perf samples exactly while that command runs, whatever perf's own start-up costs on a busy
# machine. Then the client is told to stop (SIGTERM: it finishes cleanly and prints its figures).
# Prints key=value figures.
cpu_window() { # sluice|linux DIR TARGET_TID
	local sys=$1 dir=$2 tid=$3 port=9 ns=$ns_cli host=$srv_ip cpid d split="" a0 a1 c0 c1
	[ "$dir" = recv ] && port=19
	[ "$sys" = sluice ] && { ns=$SL_NS; host=$sl_ip; }
	ip netns exec "$ns" timeout -k 5 $((secs + 30)) "${cpu_cli[@]}" "$tool" "$dir" "$host" \
		"$port" $((secs + 20)) >"$work/window.out" 2>>"$work/client.err" &
	cpid=$!
	live_pid=$cpid
	sleep 0.5
	d=$((secs > 1 ? secs - 1 : 1))
	local inner="window_count $sys >'$work/a0'; cpu_busy '$srv_cpu' >'$work/c0'; sleep $d;"
	inner+=" window_count $sys >'$work/a1'; cpu_busy '$srv_cpu' >'$work/c1'"
	if [ -n "$have_perf" ] && [ -n "$tid" ] && [ -n "$srv_cpu" ]; then
		timeout -k 5 $((d + 30)) perf record -q -C "$srv_cpu" -e cpu-clock -F 999 \
			-o "$work/perf.data" -- bash -c "$inner" >/dev/null 2>&1
		split=$(perf_split "$work/perf.data" "$tid")
	else
		bash -c "$inner"
	fi
	kill -TERM "$cpid" 2>/dev/null
	wait "$cpid"
	local rc=$?
	# shellcheck disable=SC2034 # read by the cleanup registered at the top
	live_pid=""
	[ $rc -eq 0 ] || return 1
	a0=$(cat "$work/a0") a1=$(cat "$work/a1") c0=$(cat "$work/c0") c1=$(cat "$work/c1")
	# The connection closed inside the window (ss no longer shows it): no per-packet figure.
	local n=nan
	[ "$a1" -gt "$a0" ] 2>/dev/null && n=$((a1 - a0))
	echo "$(cat "$work/window.out") cpu1_j=$((c1 - c0)) win_pkts=$n $split"
}

cpu_one() { # sluice|linux|linux-nooffload RUN
	local sys=$1 run=$2 out s0 s1 n0 srv rc
	if [ "$sys" = sluice ]; then
		s0=$(sl_stats) || return 1
		cpu_window sluice send "$(worker_tid)" >"$work/window.rec" || return 1
		out=$(cat "$work/window.rec")
		s1=$(sl_stats) || return 1
		rec "kind=cpu sys=sluice run=$run $out" \
			"busy_s=$(python3 -c "print($(kv busy_s "$s1") - $(kv busy_s "$s0"))")" \
			"pkts=$(($(kv pkts "$s1") - $(kv pkts "$s0")))"
		return 0
	fi
	[ "$sys" = linux-nooffload ] && veth_offloads off
	n0=$(srv_bulk_lines)
	# Not in $( ): cpu_window must run in this shell, where live_pid is seen by the cleanup.
	cpu_window linux send "$srv_pid" >"$work/window.rec"
	rc=$?
	out=$(cat "$work/window.rec")
	[ "$sys" = linux-nooffload ] && veth_offloads on
	[ $rc -eq 0 ] || return 1
	srv=$(srv_bulk_after "$n0") || return 1
	rec "kind=cpu sys=$sys run=$run $out pkts=$(($(kv segs_in "$srv") + $(kv segs_out "$srv")))"
}

# The chargen stream, for where sluice's worker spends its time when it sends.
profile_chargen() {
	local out
	cpu_window sluice recv "$(worker_tid)" >"$work/window.rec" || return 1
	out=$(cat "$work/window.rec")
	rec "kind=profile dir=recv $out"
}

# ---- main ----

need_packages
have_perf=$(command -v perf 2>/dev/null)
[ "${BENCH_PERF:-1}" = 0 ] && have_perf=""
build_all
setup
environment

tb_log "memory: $idle_n idle connections to sluice, then to the Linux server"
mem_one sluice "$SL_NS" "$sl_ip"
mem_one linux "$ns_cli" "$srv_ip"

tb_log "bulk: $runs x (discard, chargen) x (sluice, Linux), $secs s each"
for r in $(seq 1 "$runs"); do
	for d in send recv; do
		bulk_one sluice "$d" "$r"
		bulk_one linux "$d" "$r"
	done
done

tb_log "short connections: $runs x (sluice, Linux), $parallel in parallel, $secs s each"
for r in $(seq 1 "$runs"); do
	cps_one sluice "$r"
	cps_one linux "$r"
done

tb_log "CPU per packet: $runs x (sluice, Linux, Linux without offloads) discard, $secs s each"
set_rps 1
for r in $(seq 1 "$runs"); do
	cpu_one sluice "$r" || tb_log "cpu run $r on sluice failed"
	cpu_one linux "$r" || tb_log "cpu run $r on Linux failed"
	cpu_one linux-nooffload "$r" || tb_log "cpu run $r on Linux (no offloads) failed"
done
if [ -n "$have_perf" ]; then
	tb_log "profile: perf samples of sluice's worker in a chargen stream, $secs s"
	profile_chargen || tb_log "profile of the chargen stream failed"
fi
set_rps 0
read -r b0 b1 < <(background)
rec "kind=env_end bg_cpu0=$b0 bg_cpu1=$b1"

for m in "bulk sys=sluice dir=send" "bulk sys=sluice dir=recv" "bulk sys=linux dir=send" \
	"bulk sys=linux dir=recv" "cps sys=sluice" "cps sys=linux" "cpu sys=sluice" \
	"cpu sys=linux"; do
	grep -q "kind=$m " "$results" || not_measured "${m//sys=/}"
done
for m in sluice linux; do
	grep -q "kind=mem sys=$m " "$results" || failed=1
done

echo
python3 "$here/report.py" table "$results"
if [ -s "$work/client.err" ]; then
	echo "client messages:"
	sort "$work/client.err" | uniq -c | head -10
fi
exit "$failed"
