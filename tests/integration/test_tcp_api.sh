#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Topology: namespace sl-it-vip-<pid> with sluice on a TAP (sl0), kernel side
# 198.18.0.1/24, sluice 198.18.0.2 with two further addresses on the same port
# (VIPs, `addresses:` in tests/integration/tcp-api.yaml), running the echo
# service (7) on every address. The Linux kernel in the namespace is the peer.
# Runs with one worker, then two. Checks: the kernel resolves each VIP by ARP
# to sluice's MAC and pings it; TCP through each VIP (echo with sha256,
# concurrent connections); an address sluice does not hold is not answered. Everything is removed on every exit path.
#
# usage: test_tcp_vip.sh [BUILD_DIR]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
tb_init sl-it-api "${1:-}"

peer=(python3 "$top/tests/tools/tcp_peer.py")
tcp_stat() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["tcp"][sys.argv[1]])' "$1"; }
nsx() { ip netns exec "$SL_NS" "$@"; }
tb_on_exit "$top/scripts/testbed.sh down >/dev/null 2>&1"

lladdr() { nsx ip neigh show "$1" dev sl0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }

# A connection from the kernel to HOST:7 that must fail (nobody answers ARP for it).
no_answer() {
	nsx python3 - "$1" <<-'PY'
		import socket, sys
		s = socket.socket()
		s.settimeout(3)
		try:
		    s.connect((sys.argv[1], 7))
		except OSError:
		    sys.exit(0)
		sys.exit(1)
	PY
}

# The echo reply comes from the address pinged (a reply from another address would not match).
ping_from() {
	local out
	out=$(nsx ping -c 2 -W 2 "$1") && grep -q "bytes from $1:" <<<"$out"
}

# A request with a 4 MB body to HOST:8 while reading: the whole answer, then EOF, no reset.
answer_unread_body() {
	nsx timeout 60 python3 - "$1" <<-'PY'
		import socket, sys, threading
		s = socket.create_connection((sys.argv[1], 8), timeout=20)
		sent = [0, None]
		def send():
		    try:
		        body = bytes(65536)
		        for _ in range(64):
		            s.sendall(body)
		            sent[0] += len(body)
		        s.shutdown(socket.SHUT_WR)
		    except OSError as e:
		        sent[1] = e
		t = threading.Thread(target=send)
		t.start()
		got = bytearray()
		try:
		    while True:
		        b = s.recv(65536)
		        if not b:
		            break
		        got += b
		except OSError as e:
		    print("recv failed after %d bytes: %r" % (len(got), e))
		    sys.exit(1)
		t.join(30)
		want = bytes(i % 251 for i in range(100000))
		print("answer %d bytes (%s), body sent %d bytes, sender error %r" %
		      (len(got), "match" if got == want else "MISMATCH", sent[0], sent[1]))
		sys.exit(0 if got == want and sent[1] is None and sent[0] == 64 * 65536 else 1)
	PY
}

run_suite() { # workers
	local workers=$1 vip own
	tb_log "--- $workers worker(s)"
	if ! "$top/scripts/testbed.sh" up --workers "$workers" --no-backends \
		--config "$top/tests/integration/tcp-api.yaml"; then
		tb_check "testbed comes up with $workers worker(s)" false
		return
	fi
	tb_check "the port's own address answers ping" nsx ping -c 1 -W 2 198.18.0.2
	own=$(lladdr 198.18.0.2)
	for vip in 198.18.0.60 198.18.0.61; do
		tb_check "$vip answers ping (ARP, the echo reply from the VIP)" ping_from "$vip"
		tb_check "$vip resolves to sluice's MAC ($(lladdr "$vip") = $own)" \
			test -n "$own" -a "$(lladdr "$vip")" = "$own"
		tb_check "echo through $vip: 5 MB each way, sha256 verified" \
			nsx "${peer[@]}" echo "$vip" 7 5000000
		tb_check "$vip: 200 concurrent connections" nsx "${peer[@]}" concurrent "$vip" 7 200
	done
	tb_check "echo through the port's own address still works" \
		nsx "${peer[@]}" echo 198.18.0.2 7 1000000
	tb_check "198.18.0.62 (not ours) gets no answer" no_answer 198.18.0.62
	local resets
	resets=$(tb_sluice_stats "$state" | tcp_stat resets_sent)
	tb_check "lingering close: the whole answer, no reset, 4 MB body discarded (VIP)" \
		answer_unread_body 198.18.0.60
	tb_check "lingering close: the same on the port's own address" \
		answer_unread_body 198.18.0.2
	tb_check "no reset sent meanwhile" \
		test "$(tb_sluice_stats "$state" | tcp_stat resets_sent)" = "$resets"
	"$top/scripts/testbed.sh" down
}

tb_need_root
run_suite 1
run_suite 2
tb_summary
