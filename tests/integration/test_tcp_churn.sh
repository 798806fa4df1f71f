#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Topology: the af_packet testbed (scripts/testbed.sh up --afp): sluice with one
# worker, then two, in namespace sl-it-churn-<pid>-dp owns sl0d, one end of a veth pair;
# the other end, sl0 in sl-it-churn-<pid>, holds the client (198.18.0.1) and
# the kernel backend sluice-backend (198.18.0.11:8080). sluice runs the forward
# test service: port 80 spliced to the backend (active opens).
#
# The stall it guards against: before sluice starts, its address 198.18.0.2
# sits on sl0d in the kernel and makes connections to the backend from every
# 7th port of sluice's ephemeral range, which the backend closes first, so the
# backend's kernel holds TIME-WAIT for those 4-tuples (as after a restart, or
# after another proxy held the address). Timestamps are off for them, so whether
# the kernel takes sluice's new SYN depends on its ISN alone: about half the
# collisions are answered with an ACK, which sluice must reset and follow with
# a prompt SYN rather than waiting a whole 1 s RTO. Then a bounded
# connection-per-request load through the splice: every request completes, none
# takes a second or more, the RTO never fires, and the collisions did happen
# (tcp_bad_ack > 0). Then a chargen stream (port 19) while the worker is
# stopped four times for 600 ms: the ACKs waiting when it resumes must stop
# the retransmission timer before it fires (no timeout). Everything is removed
# on every exit path.
#
# usage: test_tcp_churn.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-churn "${1:-}"

tb_need_root
tb_need_cmd ethtool python3
client=(python3 "$top/tests/tools/churn_client.py")
peer=(python3 "$top/tests/tools/tcp_peer.py")
nsx() { ip netns exec "$SL_NS" "$@"; }
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"
ulimit -n 8192

# The ephemeral range of dataplane/net/tcp/tcp_conn.h (SL_TCP_EPHEMERAL_LO/HI).
eph_lo=10000
eph_hi=65520
step=7 # odd: both parities, i.e. the ports of either of two workers
requests=${SL_CHURN_REQUESTS:-800}
[[ $requests =~ ^[0-9]+$ ]] && [ "$requests" -ge 1 ] && [ "$requests" -le 20000 ] ||
	tb_die "SL_CHURN_REQUESTS must be a number from 1 to 20000"

# Runs in the testbed before sluice starts (SL_NS, SL_NS_DP set by testbed.sh).
preload=$(cat <<PRE
set -e
ip netns exec "\$SL_NS_DP" sysctl -qw net.ipv4.tcp_timestamps=0
ip netns exec "\$SL_NS_DP" ip addr add 198.18.0.2/24 dev sl0d
n=\$(ip netns exec "\$SL_NS_DP" timeout 120 ${client[*]} preload 198.18.0.2 198.18.0.11 8080 \
	$eph_lo $eph_hi $step 16)
echo "\$n" >"$state/preloaded"
# The client sides end in LAST-ACK for a moment: let them finish before the address goes.
for i in \$(seq 1 50); do
	[ "\$(ip netns exec "\$SL_NS_DP" ss -Htan | wc -l)" = 0 ] && break
	sleep 0.1
done
ip netns exec "\$SL_NS_DP" ip addr flush dev sl0d
ip netns exec "\$SL_NS" ss -Htan state time-wait | wc -l >"$state/time_wait"
PRE
)

stats() { tb_sluice_stats "$state"; }
stat() { python3 -c 'import json,sys
d=json.loads(sys.stdin.read())
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

run_suite() { # workers
	local workers=$1 out rc s dev
	tb_log "--- $workers worker(s)"
	mkdir -p "$state"
	if ! "$top/scripts/testbed.sh" up --afp --workers "$workers" \
		--config "$top/tests/integration/tcp-churn.yaml" --pre-start "$preload"; then
		tb_check "af_packet testbed comes up with TIME-WAIT preloaded on the backend" false
		return
	fi
	tb_log "preloaded $(cat "$state/preloaded") connections;" \
		"the backend holds $(cat "$state/time_wait") TIME-WAIT"
	tb_check "the backend holds TIME-WAIT from sluice's address and ports" \
		test "$(cat "$state/time_wait")" -ge $(((eph_hi - eph_lo) / step / 2))

	# Client ports chosen by the test, all different: the kernel's own choice could reuse a
	# port of a connection sluice still holds in TIME-WAIT, a different matter.
	out=$(nsx timeout 300 "${client[@]}" load 198.18.0.2 80 "$requests" 8 10 198.18.0.1 40000)
	rc=$?
	tb_log "load: $out"
	s=$(stats)
	tb_log "tcp: timeouts=$(stat tcp.timeouts <<<"$s")" \
		"bad_ack=$(stat tcp.drops.tcp_bad_ack <<<"$s")" \
		"resets_sent=$(stat tcp.resets_sent <<<"$s")" \
		"syn_resends=$(stat tcp.syn_resends <<<"$s")" \
		"active_opens=$(stat tcp.active_opens <<<"$s")" \
		"connect_failures=$(stat tcp.connect_failures <<<"$s")"
	tb_log "nonzero: $(python3 -c 'import json,sys
d=json.loads(sys.stdin.read()); t=d["tcp"]; p=d["ports"][0]
kv={**{k: v for k, v in t.items() if k != "drops"}, **t["drops"], **p["drops"], **p["device"]}
print(" ".join("%s=%s" % (k, v) for k, v in kv.items() if v))' <<<"$s")"
	tb_check "all $requests requests through the splice complete" test "$rc" -eq 0
	tb_check "the load met the backend's TIME-WAIT (tcp_bad_ack > 0)" \
		test "$(stat tcp.drops.tcp_bad_ack <<<"$s")" -gt 0
	tb_check "no request took a SYN retransmission timeout (slow=$(stat slow <<<"$out"), max $(
		stat max_ms <<<"$out") ms)" test "$(stat slow <<<"$out")" -eq 0
	tb_check "the retransmission timer never fired (timeouts=$(stat tcp.timeouts <<<"$s"))" \
		test "$(stat tcp.timeouts <<<"$s")" -eq 0
	tb_check "no connect failed (connect_failures=$(stat tcp.connect_failures <<<"$s"))" \
		test "$(stat tcp.connect_failures <<<"$s")" -eq 0
	# The device's own drop counters are exported per port (rte_eth_stats).
	dev=$(python3 -c 'import json,sys
d=json.loads(sys.stdin.read())["ports"][0]["device"]
print(" ".join("%s=%d" % (k, d[k]) for k in ("imissed", "ierrors", "rx_nombuf", "oerrors")))' \
		<<<"$s")
	tb_check "the port's device counters are in the stats ($dev)" test -n "$dev"
	paused_worker
	"$top/scripts/testbed.sh" down
}

# A worker that does not run for a while (SIGSTOP here; a shared CPU, a slow iteration) finds
# the ACKs for its data waiting in the RX ring: they must stop the retransmission timer before
# it fires. Four pauses of 600 ms (beyond the RTO) in a chargen stream: no timeout.
paused_worker() {
	local pid cl t0 t1 i
	pid=$(cat "$state/sluice.pid")
	t0=$(stats | stat tcp.timeouts)
	nsx timeout 60 "${peer[@]}" source 198.18.0.2 19 1500000000 >/dev/null 2>&1 &
	cl=$!
	sleep 0.5
	for i in 1 2 3 4; do
		kill -STOP "$pid"
		sleep 0.6
		kill -CONT "$pid"
		sleep 0.4
	done
	tb_stop_pid "$cl"
	t1=$(stats | stat tcp.timeouts)
	tb_check "no retransmission timeout after 4 pauses of the worker ($((t1 - t0)))" \
		test "$((t1 - t0))" -eq 0
}

run_suite 1
run_suite 2
tb_summary
