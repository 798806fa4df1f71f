#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Topology: namespace sl-it-tcp-<pid> with sluice on a TAP (sl0), kernel side
# 198.18.0.1/24, sluice 198.18.0.2 running the echo (7), discard (9) and
# chargen (19) test services, and forward (5001) which opens a connection to a
# kernel echo server on 198.18.0.1:6001 for each one it accepts (active open);
# the Linux kernel in the namespace is the peer on both sides.
# Runs with one worker, then two. Checks: 20 MB each way with sha256,
# 1,000 concurrent connections, 20,000 short connections with the
# connection table back to zero, a SYN flood (hping3) while a normal client
# still connects (SYN cookies). Everything is removed on every exit path.
#
# usage: test_tcp.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-tcp "${1:-}"

peer=(python3 "$top/tests/tools/tcp_peer.py")
nsx() { ip netns exec "$SL_NS" "$@"; }
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"
ulimit -n 8192

stats() { tb_sluice_stats "$state"; }
tcp_stat() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["tcp"][sys.argv[1]])' "$1"; }

run_suite() { # workers
	local workers=$1 s
	tb_log "--- $workers worker(s)"
	if ! "$top/scripts/testbed.sh" up --workers "$workers" --no-backends \
		--config "$top/tests/integration/tcp-services.yaml"; then
		tb_check "testbed comes up with $workers worker(s)" false
		return
	fi
	tb_check "echo: 20 MB each way, sha256 verified" nsx "${peer[@]}" echo 198.18.0.2 7 20000000
	tb_check "discard: 20 MB in, FIN back" nsx "${peer[@]}" discard 198.18.0.2 9 20000000
	tb_check "chargen: 20 MB out, pattern verified" nsx "${peer[@]}" source 198.18.0.2 19 20000000
	tb_check "1,000 concurrent connections" nsx "${peer[@]}" concurrent 198.18.0.2 7 1000
	tb_check "20,000 short connections" nsx "${peer[@]}" churn 198.18.0.2 7 20000 8

	# Active opens: sluice's forward service (5001) opens a connection to a kernel
	# listener (198.18.0.1:6001, an echo server) for each connection it accepts.
	nsx timeout 120 "${peer[@]}" serve 198.18.0.1 6001 90 >/dev/null &
	local server=$!
	tb_on_exit "kill $server 2>/dev/null || true"
	tb_wait_for "nsx ss -ltn | grep -q 198.18.0.1:6001" 5
	tb_check "active open: 20 MB each way through sluice to a kernel listener" \
		nsx "${peer[@]}" echo 198.18.0.2 5001 20000000
	tb_check "active open: 300 concurrent spliced connections" \
		nsx "${peer[@]}" concurrent 198.18.0.2 5001 300
	tb_check "active open: 2,000 short spliced connections" \
		nsx "${peer[@]}" churn 198.18.0.2 5001 2000 8
	kill "$server" 2>/dev/null
	# The table drains: peers closed first, so nothing lingers beyond TIME-WAIT (1 s here).
	tb_wait_for "[ \"\$(stats | tcp_stat conns)\" = 0 ] && [ \"\$(stats | tcp_stat conns_time_wait)\" = 0 ]" 10
	s=$(stats)
	tb_check "connection table back to zero (conns=$(tcp_stat conns <<<"$s"))" \
		test "$(tcp_stat conns <<<"$s")" -eq 0
	tb_check "TIME-WAIT records expired (conns_time_wait=$(tcp_stat conns_time_wait <<<"$s"))" \
		test "$(tcp_stat conns_time_wait <<<"$s")" -eq 0
	tb_check "passive opens counted ($(tcp_stat passive_opens <<<"$s"))" \
		test "$(tcp_stat passive_opens <<<"$s")" -ge 23304
	tb_check "active opens counted ($(tcp_stat active_opens <<<"$s"))" \
		test "$(tcp_stat active_opens <<<"$s")" -ge 2301

	# SYN flood from a second kernel address; the kernel's RSTs to our SYN-ACKs are
	# dropped so that half-open connections stay and the backlog (64) fills.
	nsx ip addr add 198.18.0.50/32 dev sl0
	nsx nft -f - <<-'NFT'
		table inet sl_flood {
			chain out { type filter hook output priority 0;
				ip saddr 198.18.0.50 tcp flags & rst == rst drop; }
		}
	NFT
	nsx timeout 30 hping3 -q -S -p 7 -a 198.18.0.50 -i u200 -c 20000 198.18.0.2 \
		>/dev/null 2>&1 &
	local flood=$!
	sleep 1
	tb_check "a normal client connects during the SYN flood" \
		nsx "${peer[@]}" echo 198.18.0.2 7 100000
	wait "$flood"
	nsx nft delete table inet sl_flood
	s=$(stats)
	tb_check "SYN cookies were sent ($(tcp_stat syncookies_sent <<<"$s"))" \
		test "$(tcp_stat syncookies_sent <<<"$s")" -gt 0
	tb_check "a cookie completed a handshake ($(tcp_stat syncookies_ok <<<"$s"))" \
		test "$(tcp_stat syncookies_ok <<<"$s")" -gt 0
	tb_check "sluice survived the flood" nsx "${peer[@]}" echo 198.18.0.2 7 1000000
	"$top/scripts/testbed.sh" down
}

run_suite 1
run_suite 2
tb_summary
