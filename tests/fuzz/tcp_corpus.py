#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_tcp: python3 tests/fuzz/tcp_corpus.py tests/fuzz/corpus/tcp

Each seed is a story told in fuzz_tcp's records (their format is documented in fuzz_tcp.c):
two set-up bytes (configuration, user policy), then segments, timer runs, user calls and ICMP
errors. Sequence and acknowledgment numbers are relative to the live connection (mode 0: seq =
rcv_nxt + v, ack = what we sent last + v), so the stories need no knowledge of ISNs.
Run the target on one with FUZZ_TCP_TRACE=1 to see what it does.
"""
import os
import struct
import sys

FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16

def seg(tup, flags, smode=0, amode=0, omode=1, seq=0, ack=0, win=65535, ln=0, cmd=0,
        opts=b"", split=None, corrupt=None, rtype=0):
    mode = smode | (amode << 2) | (omode << 4) | (0x80 if split is not None else 0)
    fl = flags | (0x80 if corrupt is not None else 0)
    code = ln if ln < 128 else min(255, 128 + (ln - 128 + 11) // 12)
    b = bytes([rtype, tup, fl, mode]) + struct.pack("<iiHBB", seq, ack, win, code, cmd) + opts
    if split is not None:
        b += bytes([split])
    if corrupt is not None:
        b += bytes([corrupt])
    return b

def syn_opts(mask=0x0f, mss=1460, ws=7):
    return bytes([mask, mss >> 8, mss & 0xff, ws])

def syn(tup, mask=0x0f, mss=1460, ws=7, win=65535):
    return seg(tup, SYN, smode=3, amode=2, omode=2, win=win, opts=syn_opts(mask, mss, ws))

def synack(tup, mask=0x0f, mss=1460, ws=7):
    return seg(tup, SYN | ACK, smode=3, amode=0, omode=2, opts=syn_opts(mask, mss, ws))

def ack(tup, seq=0, a=0, win=65535, omode=1, amode=0):
    return seg(tup, ACK, seq=seq, ack=a, win=win, omode=omode, amode=amode)

def data(tup, off, ln, cmd=0, flags=ACK | PSH, win=65535, omode=1):
    return seg(tup, flags, seq=off, ln=ln, cmd=cmd, win=win, omode=omode)

def time_ms(n):        # 1..64 ms
    return bytes([9, (n - 1) & 63])

def time_50ms(n):      # n x 50 ms
    return bytes([9, 0x40 | ((n - 1) & 63)])

def time_next(n):      # to the next timer, n times (1..8)
    return bytes([9, 0x80 | ((n - 1) & 63)])

def time_s(n):         # n seconds at once
    return bytes([9, 0xc0 | ((n - 1) & 63)])

def user(tup, action, arg=0):
    return bytes([11, tup, action]) + struct.pack("<H", arg)

def icmp(tup, code, mtu, seq=0, fl=0):
    return bytes([14, tup, code]) + struct.pack("<Hi", mtu, seq) + bytes([fl])

def sack(tup, blocks, ts=True):
    opts = bytes([(len(blocks) - 1) | (0 if ts else 0x80)])
    for s, l in blocks:
        opts += struct.pack("<hH", s, l)
    return seg(tup, ACK, omode=3, opts=opts, amode=1)

def handshake(tup, mask=0x0f):
    return syn(tup, mask) + ack(tup)

seeds = {}
# A full passive handshake, data echoed, the peer's FIN, our FIN acknowledged, TIME-WAIT ends.
seeds["handshake_data_fin"] = bytes([0x05, 0x00]) + handshake(0) + data(0, 0, 100) + \
    time_50ms(1) + ack(0) + seg(0, FIN | ACK) + time_next(3) + ack(0) + time_s(3)
# A SYN flood into the SYN backlog (1): the others get cookies; a cookie ACK completes.
seeds["syn_flood_cookie"] = bytes([0x45, 0x00]) + syn(0) + syn(1) + syn(2, mask=0x05) + \
    syn(3, mask=0x01) + ack(1) + data(1, 0, 50) + ack(2) + ack(3, omode=0) + ack(0) + \
    time_s(2) + seg(1, FIN | ACK) + ack(1)
# Out of order: two segments beyond a hole, SACK blocks back, the hole filled in two steps.
seeds["out_of_order"] = bytes([0x05, 0x00]) + handshake(2) + data(2, 100, 100) + \
    data(2, 300, 50) + data(2, 0, 100) + data(2, 0, 100) + data(2, 0, 1000) + \
    time_next(1) + seg(2, FIN | ACK, seq=0)
# RST inside the window (challenge ACK), then at rcv_nxt (reset); the same on a second tuple.
seeds["rst_in_window"] = bytes([0x05, 0x04]) + handshake(3) + data(3, 0, 10) + \
    seg(3, RST, seq=10, omode=0) + seg(3, RST, seq=0, omode=0) + handshake(1) + \
    seg(1, SYN, seq=0, omode=0) + seg(1, RST | ACK, seq=0, omode=1)
# Active open: SYN-ACK, the user sends, the peer SACKs around a loss, RTO, recovery.
seeds["active_send_loss"] = bytes([0x0a, 0x20]) + synack(6) + user(6, 1, 6000) + \
    ack(6, amode=1, a=1448) + sack(6, [(2896, 1448)]) + sack(6, [(2896, 2896)]) + \
    sack(6, [(2896, 4344)]) + time_next(2) + ack(6, amode=3) + time_next(1) + \
    user(6, 3) + ack(6) + seg(6, FIN | ACK) + time_s(3)
# The slow reader: its window closes; the peer's zero window makes us probe; keepalive.
seeds["zero_window"] = bytes([0x20 | 0x04 | 0x00, 0x01]) + handshake(4) + \
    data(4, 0, 1000) + data(4, 0, 1000) + data(4, 0, 100) + user(4, 1, 3000) + \
    ack(4, win=0) + time_next(4) + ack(4, win=2000) + user(4, 0, 2000) + time_s(8) + \
    time_next(8)
# Simultaneous open: the peer's SYN crosses ours, then its SYN-ACK.
seeds["simultaneous_open"] = bytes([0x05, 0x00]) + syn(6) + \
    seg(6, SYN | ACK, smode=3, amode=0, omode=2, seq=-1, opts=syn_opts()) + data(6, 0, 20) + \
    user(7, 8) + synack(7) + data(7, 0, 30, cmd=9)
# ICMP: fragmentation needed while data is in flight, then port unreachable.
seeds["icmp_pmtu"] = bytes([0x05, 0x40]) + handshake(0) + user(0, 1, 4000) + \
    icmp(0, 4, 1200) + icmp(0, 4, 0) + time_next(1) + ack(0) + icmp(6, 3, 0) + icmp(0, 3, 0)
# Corrupted and split frames: checksums, truncation, data offset, IP options, chains.
seeds["malformed"] = bytes([0x05, 0x00]) + syn(0) + ack(0) + \
    seg(0, ACK | 0, ln=200, corrupt=0x00) + seg(0, ACK, ln=200, corrupt=0x01) + \
    seg(0, ACK, ln=200, corrupt=0x0a) + seg(0, ACK, ln=200, corrupt=0x1b) + \
    seg(0, ACK, ln=200, corrupt=0x2c) + seg(0, ACK, ln=200, corrupt=0x1d) + \
    seg(0, ACK, ln=200, corrupt=0x0e) + seg(0, ACK, ln=200, corrupt=0x27) + \
    seg(0, ACK, ln=200, split=0xc1) + seg(0, ACK, ln=160, split=0x40) + \
    seg(0, ACK, omode=4, opts=bytes([7, 1, 8, 10, 0, 0, 0, 1])) + \
    seg(8, SYN, smode=3, amode=2, omode=0) + seg(9, ACK)
# Closes from both sides: user shutdown, peer FIN, LAST-ACK; close with unread data (reset).
seeds["closes"] = bytes([0x05, 0x01]) + handshake(0) + user(0, 2) + ack(0) + \
    seg(0, FIN | ACK) + handshake(4) + data(4, 0, 100) + user(4, 3) + \
    handshake(1) + data(1, 0, 10, cmd=8) + seg(1, FIN | ACK, seq=0) + time_s(5)

# The TIME-WAIT side: the peer's FIN again is acknowledged and restarts the clock.
seeds["time_wait_fin_again"] = bytes([0x05, 0x00]) + handshake(0) + user(0, 2) + ack(0) + \
    seg(0, FIN | ACK) + time_ms(10) + seg(0, FIN | ACK, seq=-1) + seg(0, SYN, seq=100, omode=0) + \
    time_s(3)
# More connections than the limit (16): the last SYNs and a cookie ACK find no room.
seeds["conn_limit"] = bytes([0x05, 0x00]) + b"".join(syn(t) + ack(t) for t in list(range(6)) +
                                                     list(range(10, 24))) + time_s(1)
# Thirty-odd SACKed ranges: the scoreboard fills up.
seeds["sack_scoreboard_full"] = bytes([0x05, 0x00]) + synack(6) + user(6, 1, 14000) + \
    b"".join(sack(6, [(2 + 18 * k, 1), (8 + 18 * k, 1), (14 + 18 * k, 1)]) for k in range(12)) + \
    time_next(2) + ack(6, amode=3)
# Simultaneous open aborted in SYN-RECEIVED.
seeds["simultaneous_abort"] = bytes([0x05, 0x00]) + syn(6) + user(6, 4) + ack(6)
# The NIC computes the checksums.
seeds["checksum_offload"] = bytes([0x05, 0x00]) + user(0, 10) + handshake(0) + data(0, 0, 100) + \
    user(0, 1, 3000) + ack(0) + seg(0, FIN | ACK) + ack(0)
# Big send buffers filled from many connections: the mbuf pool runs dry.
seeds["pool_exhaustion"] = bytes([0x0d, 0x00]) + b"".join(
    handshake(t) + user(t, 7, 0) for t in [0, 1, 2, 3, 10, 11, 12, 13, 14]) + time_next(3) + \
    b"".join(ack(t, amode=3) for t in [0, 1, 2, 3])

# Regression seeds: each failed before the fix named in its comment in dataplane/net/tcp/.
# A peer that shows a zero window and falls silent (tcp_timer.c, persist gives up).
seeds["regress_silent_zero_window"] = bytes([0x05, 0x00]) + synack(6) + \
    data(6, 0, 100, cmd=15, win=0)
# A full-sized segment with a SACK block (tcp_output.c, tcp_seg_mss).
seeds["regress_sack_over_mtu"] = bytes([0x05, 0x00]) + synack(6) + data(6, 1000, 11) + \
    user(6, 1, 6000)
# A window too short for sender SWS avoidance, never updated (tcp_output.c, persist armed).
seeds["regress_sws_stall"] = bytes([0x05, 0x00]) + syn(4, ws=7) + ack(4) + \
    data(4, 0, 452, cmd=15, win=1)
# The peer's MSS is 5, with timestamps (tcp_conn.c, sl_tcp_set_mss).
seeds["regress_tiny_peer_mss"] = bytes([0x05, 0x00]) + synack(6, mss=5) + user(6, 1, 2000)
# A segment that ends inside the next queued one after its front is cut (tcp_reass.c).
seeds["regress_ooo_empty_segment"] = bytes([0x05, 0x00]) + handshake(2) + data(2, 100, 100) + \
    data(2, 44, 104) + data(2, 44, 104)
# Simultaneous open closed by the user in SYN-RECEIVED (tcp_input.c, no `connected`).
seeds["regress_connected_after_close"] = bytes([0x05, 0x00]) + syn(6) + user(6, 3) + ack(6)
# The peer SACKs our FIN's sequence number; the RTO sends the FIN again (tcp_output.c,
# tcp_skip_sacked).
seeds["regress_sacked_fin"] = bytes([0x05, 0x00]) + synack(6) + user(6, 2) + sack(6, [(0, 1)]) + \
    time_next(2)

if len(sys.argv) != 2:
    sys.exit("usage: tcp_corpus.py <directory>")
os.makedirs(sys.argv[1], exist_ok=True)
for name, b in seeds.items():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(b)
