#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Topology: namespace sl-it-net-<pid> holding sluice on a TAP (sl0, made by
# sluice), kernel side 198.18.0.1/24, sluice 198.18.0.2; no backends. Then
# the same with two workers. Checks the network base against the Linux
# kernel: ping, ARP on both sides, malformed frames counted and survived,
# clean exit on SIGTERM. Everything is removed on every exit path.
#
# usage: test_net.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-net "${1:-}"

craft=(/usr/bin/python3 "$top/tests/tools/craft.py")
nsx() { ip netns exec "$SL_NS" "$@"; }
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"

sluice_pid() { cat "$state/sluice.pid"; }
sluice_mac() { sed -n 's/.*mac \([0-9A-Fa-f:]\{17\}\).*/\1/p' "$state/sluice.log" | head -1 | tr 'A-F' 'a-f'; }

# Ask sluice for its counters; prints the JSON of the newest stats line.
stats() { tb_sluice_stats "$state"; }
# jq-free JSON reads: drop count for a reason on port 0, a plain counter, ARP rows.
drop_count() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ports"][0]["drops"][sys.argv[1]])' "$1"; }
counter() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ports"][0][sys.argv[1]])' "$1"; }
arp_rows() { python3 -c 'import json,sys
for e in json.loads(sys.stdin.read())["arp"]: print(e["worker"], e["ip"], e["mac"], e["state"])'; }

run_suite() { # workers
	local workers=$1
	tb_log "--- $workers worker(s)"
	if ! "$top/scripts/testbed.sh" up --workers "$workers" --no-backends; then
		tb_check "testbed comes up with $workers worker(s)" false
		return
	fi
	local mac kmac s
	mac=$(sluice_mac)
	kmac=$(nsx cat /sys/class/net/sl0/address)
	tb_check "sluice logs its port MAC" test -n "$mac"

	tb_check "ping 198.18.0.2 from the kernel side" nsx ping -c 3 -i 0.2 -W 2 198.18.0.2
	# Several source addresses so that with two workers the kernel uses both queues.
	local a ok=0
	for a in 21 22 23 24 25 26 27 28; do
		nsx ip addr add "198.18.0.$a/32" dev sl0
		nsx ping -c 2 -i 0.2 -W 2 -I "198.18.0.$a" 198.18.0.2 >/dev/null && ok=$((ok + 1))
	done
	tb_check "ping answered from 8 source addresses" test "$ok" -eq 8

	tb_check "kernel neighbour table holds sluice's MAC" \
		bash -c "ip netns exec $SL_NS ip neigh show 198.18.0.2 dev sl0 | grep -q 'lladdr $mac'"

	s=$(stats) || { tb_check "SIGUSR1 prints stats" false; return; }
	tb_check "sluice's ARP table holds the kernel side's MAC" \
		bash -c "grep -q '198.18.0.1 $kmac reachable' <<<'$(arp_rows <<<"$s")'"
	if [ "$workers" -gt 1 ]; then
		local nw
		nw=$(arp_rows <<<"$s" | awk -v ip=198.18.0.1 '$2 == ip' | wc -l)
		tb_check "every worker learned 198.18.0.1 (ARP shared between workers)" \
			test "$nw" -eq "$workers"
	fi
	tb_check "one gratuitous ARP sent at start" test "$(counter arp_tx_gratuitous <<<"$s")" -eq 1
	tb_check "echo replies counted" test "$(counter icmp_tx_echo_reply <<<"$s")" -ge 19

	# Malformed frames: each one counted under its own reason, nothing breaks.
	local kind before after
	for kind in $("${craft[@]}" list); do
		before=$(drop_count "$kind" <<<"$s")
		nsx "${craft[@]}" sl0 "$mac" 198.18.0.1 198.18.0.2 "$kind" 3
		s=$(stats) || break
		after=$(drop_count "$kind" <<<"$s")
		# eth_not_us also counts any multicast the kernel side sends meanwhile.
		if [ "$kind" = eth_not_us ]; then
			tb_check "3 frames of kind $kind counted as drops ($before -> $after)" \
				test $((after - before)) -ge 3
		else
			tb_check "3 frames of kind $kind counted as drops ($before -> $after)" \
				test $((after - before)) -eq 3
		fi
	done
	tb_check "sluice still answers ping after malformed input" \
		nsx ping -c 2 -i 0.2 -W 2 198.18.0.2
	tb_check "sluice is still running" kill -0 "$(sluice_pid)"

	# Clean stop: exit 0, TAP gone, process gone.
	local pid rc
	pid=$(sluice_pid)
	kill -TERM "$pid"
	tb_wait_for "! kill -0 $pid 2>/dev/null" 10
	tb_check "sluice exits on SIGTERM" bash -c "! kill -0 $pid 2>/dev/null"
	tb_wait_for "[ -s '$state/sluice.rc' ]" 5
	rc=$(cat "$state/sluice.rc" 2>/dev/null || echo none)
	tb_check "sluice exit status is 0 after SIGTERM (got $rc)" test "$rc" = 0
	tb_check "sluice's TAP device is gone" bash -c "! ip netns exec $SL_NS ip link show sl0 2>/dev/null"
	"$top/scripts/testbed.sh" down
	tb_check "testbed down leaves no namespace" bash -c "! ip netns list | grep -qw $SL_NS"
	tb_check "testbed down leaves no state" test ! -e "$state"
}

run_suite 1
run_suite 2
tb_summary
