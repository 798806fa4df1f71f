#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The forward splice against HAProxy 2.6 in `mode tcp`, on the same wires and the same CPU:
# requests per second, p50/p99/max latency, errors and CPU per request, for keep-alive and for
# a new connection per request, with sluice/HAProxy ratios. Run by hand (root); not part of
# scripts/test.sh. Figures only: nothing passes or fails on a number.
#
# Topology: the af_packet testbed (scripts/testbed.sh up --afp), all removed on every exit:
#   sl-splice-<pid>     the kernel side: sl0 with 198.18.0.1 (wrk) and 198.18.0.11 (nginx,
#                       port 8080); wrk and nginx pinned to CPU 0
#   sl-splice-<pid>-dp  the proxy's side: sl0d, the other end of the veth pair. First HAProxy
#                       (one thread, taskset CPU 1) on the kernel's stack with 198.18.0.2 on sl0d;
#                       then that address goes and sluice takes sl0d through the af_packet PMD,
#                       one worker with `idle: poll`, both lcores on CPU 1 (--lcores 0@1,1@1),
#                       forward 80 -> 198.18.0.11:8080.
# HAProxy runs first from the same address, as in the measurement that found the stalls of
# issue 6: the backend keeps its TIME-WAITs when sluice starts (see the counters printed).
#
# Each proxy: 1 s warm-up, then wrk -t1 -c50 for SECONDS with keep-alive, then SECONDS with
# `Connection: close`. CPU per request: HAProxy's process CPU time (/proc/PID/stat, user +
# system) over the phase; sluice's workers' busy time (busy_seconds in its stats: TSC cycles
# in poll iterations that did work / TSC Hz), divided by wrk's request count. A poll-mode
# worker always shows 100% to the OS; the busy time is what it would cost if it slept. On a
# loaded machine busy time also counts preemption inside busy iterations, so a second figure
# follows the table: the worker thread's CPU time (kernel accounting) x its busy share of the
# wall clock.
#
# usage: tests/bench/splice.sh [--short] [BUILD_DIR]    (--short: 2 s phases; default 8 s)
# Environment: SPLICE_SECONDS (phase length, 1-60), SPLICE_CONNS (wrk connections, 50).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/bench

secs=${SPLICE_SECONDS:-8}
conns=${SPLICE_CONNS:-50}
if [ "${1:-}" = --short ]; then
	secs=${SPLICE_SECONDS:-2}
	shift
fi

sl_ip=198.18.0.2
be_ip=198.18.0.11
be_port=8080

# One phase of wrk against 198.18.0.2:80 from the kernel side, pinned to CPU 0.
wrk_phase() { # OUTFILE [wrk args...]
	local out=$1
	shift
	ip netns exec "$SL_NS" timeout -k 5 $((secs + 30)) taskset -c 0 wrk -t1 -c"$conns" \
		-d"${secs}s" --timeout 5s --latency "$@" "http://$sl_ip/" >"$out" 2>&1
}

# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

# ---- the HAProxy phase: run by testbed.sh --pre-start, before sluice owns sl0d ----
if [ "${1:-}" = --haproxy-phase ]; then
	work=${SPLICE_WORK:?}
	# nginx, the backend, on the kernel side; its PID file lets the main script stop it.
	ip netns exec "$SL_NS" taskset -c 0 nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx.err" \
		</dev/null >"$work/nginx.log" 2>&1 &
	echo $! >"$work/nginx.pid"
	bench_wait_listening "$SL_NS" "$be_ip:$be_port" || exit 1
	ip netns exec "$SL_NS_DP" ip addr add "$sl_ip/24" dev sl0d
	ip netns exec "$SL_NS_DP" taskset -c 1 haproxy -f "$work/haproxy.cfg" -db \
		</dev/null >"$work/haproxy.log" 2>&1 &
	hpid=$!
	echo "$hpid" >"$work/haproxy.pid"
	bench_wait_listening "$SL_NS_DP" "$sl_ip:80" || exit 1
	ip netns exec "$SL_NS" timeout 10 taskset -c 0 wrk -t1 -c"$conns" -d1s "http://$sl_ip/" \
		>/dev/null 2>&1
	for phase in keepalive close; do
		hdr=()
		[ "$phase" = close ] && hdr=(-H "Connection: close")
		c0=$(bench_proc_cpu_s "$hpid")
		wrk_phase "$work/wrk-haproxy-$phase.txt" "${hdr[@]}"
		c1=$(bench_proc_cpu_s "$hpid")
		python3 -c "print($c1 - $c0)" >"$work/cpu-haproxy-$phase.txt"
	done
	bench_stop_pid "$hpid"
	rm -f "$work/haproxy.pid"
	# The address goes back to nobody: from now on 198.18.0.2 is sluice, on the same wire.
	ip netns exec "$SL_NS_DP" ip addr flush dev sl0d
	exit 0
fi

# ---- the main script ----
export TB_NAME=splice
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-splice "${1:-}"

tb_need_root
"$top/scripts/deps.sh" bench >&2 || tb_die "scripts/deps.sh bench failed"
tb_need_cmd wrk haproxy nginx ethtool taskset python3
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ] || [ "$secs" -gt 60 ]; then
	tb_die "SPLICE_SECONDS must be a number from 1 to 60, not '$secs'"
fi
[ -x "$SL_BUILD/apps/sluice/sluice" ] || tb_die "build sluice first (./scripts/build.sh)"
[ "$(nproc)" -ge 2 ] || tb_log "fewer than 2 CPUs: the pinning to CPU 0 and 1 cannot hold"

work=$(mktemp -d /tmp/sl-splice.XXXXXX)
export SPLICE_WORK=$work SPLICE_SECONDS=$secs SPLICE_CONNS=$conns
tb_on_exit "rm -rf '$work'"
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"
# shellcheck disable=SC2016 # expanded when the cleanup runs
tb_on_exit 'for f in "$work"/haproxy.pid "$work"/nginx.pid; do [ -f "$f" ] && tb_stop_pid "$(cat "$f")"; done'
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $work/nginx.run.pid;
error_log $work/nginx.err;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 10000000;
$(bench_nginx_paths "$work")
	server {
		listen $be_ip:$be_port backlog=4096;
		location / { return 200 "hello from nginx\n"; }
	}
}
EOF
cat >"$work/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 8000
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend splice
	bind $sl_ip:80 backlog 4096
	default_backend nginx
backend nginx
	server nginx $be_ip:$be_port
EOF
cat >"$work/splice.yaml" <<EOF
dataplane:
  workers: 1
  idle: poll
  ports:
    - name: veth0
      device: net_af_packet0
      ip: $sl_ip/24
  mbufs: 32767
  tcp:
    max_connections: 32768
    syn_backlog: 4096
  test_services:
    forward: { port: 80, to: $be_ip:$be_port }
EOF

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tb_log "HAProxy then sluice, ${secs} s keep-alive and ${secs} s Connection: close each"
if ! "$top/scripts/testbed.sh" up --afp --no-backends --lcores 0@1,1@1 \
	--config "$work/splice.yaml" --pre-start "'$here/splice.sh' --haproxy-phase"; then
	tb_die "the testbed or the HAProxy phase failed (logs: $work)"
fi

stats() { tb_sluice_stats "$state"; }
# Counters of sluice over a phase: busy seconds and a few TCP and device counters.
snapshot() { # FILE
	local s
	s=$(stats) || return 1
	python3 -c 'import json,sys
d=json.loads(sys.stdin.read()); t=d["tcp"]; p=d["ports"][0]; dev=p.get("device", {})
v={"busy_s": sum(w["busy_seconds"] for w in d["workers"]),
   "rx_packets": p["rx_packets"], "timeouts": t["timeouts"],
   "bad_ack": t["drops"]["tcp_bad_ack"], "syn_resends": t.get("syn_resends", 0),
   "resets_sent": t["resets_sent"], "retransmits": t["retransmits"],
   "challenge_acks": t["challenge_acks"], "resets_received": t["resets_received"],
   "connect_failures": t["connect_failures"], "imissed": dev.get("imissed", 0),
   "rx_nombuf": dev.get("rx_nombuf", 0)}
# Every other TCP counter and drop too: the report prints those that moved.
for k, x in t.items():
    if isinstance(x, int) and k not in v and k not in ("conns", "conns_established"):
        v[k] = x
for k, x in t["drops"].items():
    v.setdefault(k, x)
for k, x in v.items(): print(k, x)' <<<"$s" >"$1"
	# What the kernel sent towards sluice on the veth: what af_packet lost is the difference
	# (DPDK 22.11's af_packet PMD reports no imissed of its own).
	echo "veth_tx $(ip netns exec "$SL_NS" cat /sys/class/net/sl0/statistics/tx_packets)" >>"$1"
	# The worker threads' CPU time as the kernel counts it, and the wall clock: on a busy
	# machine busy_seconds also counts time the worker was preempted in a busy iteration.
	local t cpu=0
	for t in /proc/"$(cat "$state/sluice.pid")"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == rte-worker-* ]] || continue
		cpu=$(awk -v c="$cpu" -v hz="$(getconf CLK_TCK)" '{ print c + ($14 + $15) / hz }' \
			"$t/stat")
	done
	echo "worker_cpu_s $cpu" >>"$1"
	echo "wall_s $(date +%s.%N)" >>"$1"
}
delta() { # BEFORE AFTER OUT: per-counter differences, and af_packet's loss
	python3 - "$1" "$2" "$3" <<-'PY'
		import sys
		a = dict(l.split() for l in open(sys.argv[1]))
		b = dict(l.split() for l in open(sys.argv[2]))
		d = {k: float(b[k]) - float(a[k]) for k in a}
		with open(sys.argv[3], "w") as f:
		    for k, v in d.items():
		        if k not in ("busy_s", "veth_tx", "rx_packets", "worker_cpu_s", "wall_s") and \
		                (v != 0 or k in ("timeouts", "bad_ack", "syn_resends", "imissed")):
		            f.write("%s %d\n" % (k, v))
		    f.write("afp_lost %d\n" % (d["veth_tx"] - d["rx_packets"]))
		    # The worker's CPU time in the share of wall time its busy iterations took.
		    f.write("busy_cpu_s %.4f\n" % (d["worker_cpu_s"] * d["busy_s"] / d["wall_s"]))
		print(d["busy_s"])
	PY
}

ip netns exec "$SL_NS" timeout 10 taskset -c 0 wrk -t1 -c"$conns" -d1s "http://$sl_ip/" \
	>/dev/null 2>&1
for phase in keepalive close; do
	hdr=()
	[ "$phase" = close ] && hdr=(-H "Connection: close")
	snapshot "$work/s0" || tb_die "no stats from sluice"
	wrk_phase "$work/wrk-sluice-$phase.txt" "${hdr[@]}"
	snapshot "$work/s1" || tb_die "no stats from sluice"
	delta "$work/s0" "$work/s1" "$work/sluice-$phase.txt" >"$work/cpu-sluice-$phase.txt"
done

echo "splice benchmark: sluice forward vs HAProxy $(haproxy -v | awk 'NR==1 {print $3}') mode tcp," \
	"af_packet veth testbed; proxies on CPU 1, wrk -t1 -c$conns and nginx on CPU 0;" \
	"${secs} s per phase"
python3 "$here/splice_report.py" "$work"
# On a shared machine the figures are only as good as the CPUs were free.
echo "load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
