#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Checksums after a zero window (issue 6), against the real binary on TAP.
# Topology: namespace sl-it-tcpzw-<pid>, testbed.sh up with one worker and
# tcp-services.yaml: sluice on its TAP sl0 (198.18.0.2, echo on port 7), the
# kernel side 198.18.0.1/24 on sl0 plus 198.18.0.60/32 for the raw peer.
# tests/tools/raw_peer.py plays a TCP peer with raw frames from .60: it sends
# 64 KB to the echo service in 1460-byte segments, reads the echo into a
# window it does not empty (4,999 / 4,096 / 1,001 bytes) until sluice probes
# the zero window, then opens it to 65,535. Every frame sluice sends must
# carry right IPv4 and TCP checksums and the 64 KB must come back intact.
# The kernel owns .60 but has no socket: its RSTs are dropped by nft.
# Before the fix: 9 to 21 frames with bad TCP checksums per run and a stall
# (the TAP PMD's software checksum offload mis-sums chains with odd pieces).
# Also: the binary under test runs with tx_verify, and it counted no failure.
# Everything is removed on every exit path.
#
# usage: test_tcp_zero_window.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-tcpzw "${1:-}"

raw_ip=198.18.0.60
nsx() { ip netns exec "$SL_NS" "$@"; }
port_stat() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ports"][0][sys.argv[1]])' "$1"; }

tb_need_root
tb_need_cmd nft python3
/usr/bin/python3 -c 'import socket; socket.AF_PACKET' || tb_die "needs /usr/bin/python3 with AF_PACKET"
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"

"$top/scripts/testbed.sh" up --workers 1 --no-backends \
	--config "$top/tests/integration/tcp-services.yaml" || tb_die "testbed did not come up"
tb_check "sluice runs with tx_verify (every outgoing checksum checked)" \
	grep -q "tx_verify: every packet" "$state/sluice.log"
nsx ip addr add "$raw_ip/32" dev sl0
nsx nft -f - <<-NFT
	table inet sl_zw {
		chain out {
			type filter hook output priority 0;
			ip saddr $raw_ip tcp flags & rst == rst drop;
		}
	}
NFT

for spec in "4999 1460" "4096 1460" "1001 999"; do
	read -r win seg <<<"$spec"
	tb_check "zero window of $win bytes (segments of $seg): 64 KB echoed, every checksum right" \
		nsx timeout 90 /usr/bin/python3 "$top/tests/tools/raw_peer.py" zerowin sl0 "$raw_ip" \
		198.18.0.2 7 65536 --win "$win" --seg "$seg"
done

if ! kill -0 "$(cat "$state/sluice.pid")" 2>/dev/null; then
	tb_log "sluice died: $(grep -m1 -A1 'PANIC' "$state/sluice.log" | tr '\n' ' ')"
fi
s=$(tb_sluice_stats "$state") || s='{}'
tb_check "sluice alive and tx_verify counted nothing (tx_bad_cksum=$(port_stat tx_bad_cksum <<<"$s"))" \
	test "$(port_stat tx_bad_cksum <<<"$s")" -eq 0
tb_summary
