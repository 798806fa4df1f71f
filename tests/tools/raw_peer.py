#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A TCP peer made of raw frames, for what a kernel socket will not do on request.

usage: raw_peer.py zerowin IFACE SRC_IP DST_IP DPORT BYTES [--win W] [--seg N] [--sport P]

zerowin: connect to sluice's echo service from SRC_IP (an address of IFACE, the
kernel side of the TAP), send BYTES in segments of N bytes (default 1460) and
echo them back, but announce a receive window of only W bytes (default 4999)
and do not read: sluice fills it and sees a zero window, probes it, and once
it has probed (or after 2 s) the window opens to 65535 and everything is read.
Every frame sluice sends is checked: IPv4 and TCP checksums, and the echoed
stream against what was sent. Exits 0 when every frame was valid and every
byte came back intact, 1 otherwise; prints one line of figures.

The kernel of the namespace owns SRC_IP but has no socket for this flow: it
answers sluice with RSTs, which the caller drops with an nft rule. Bounded: 60 s.
Plain AF_PACKET and struct (no scapy): a bulk exchange needs the speed.
"""
import hashlib
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
DEADLINE_S = 60


def csum(data, start=0):
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def seq_lt(a, b):
    return ((a - b) & 0xFFFFFFFF) > 0x7FFFFFFF


class Peer:
    def __init__(self, iface, sip, dip, dport, sport):
        self.iface = iface
        self.sip, self.dip = socket.inet_aton(sip), socket.inet_aton(dip)
        self.dport, self.sport = dport, sport
        self.mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((iface, 0))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.dmac = None
        self.ip_id = random.randrange(65536)
        self.frames = 0
        self.bad_ip = 0
        self.bad_tcp = 0

    def send_frame(self, payload, etype=ETH_P_IP, dmac=None):
        self.s.send((dmac or self.dmac) + self.mac + struct.pack("!H", etype) + payload)

    def recv(self, timeout):
        """Next frame for us (IPv4 from DST_IP or ARP), or None after timeout."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            f, addr = self.s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING or len(f) < 14:
                continue
            return f

    def arp(self):
        req = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, self.mac, self.sip, b"\0" * 6, self.dip)
        for _ in range(20):
            self.send_frame(req, ETH_P_ARP, b"\xff" * 6)
            f = self.recv(0.25)
            while f is not None:
                if struct.unpack("!H", f[12:14])[0] == ETH_P_ARP and len(f) >= 42:
                    op, sha, spa = struct.unpack("!H6s4s", f[20:32])
                    if op == 2 and spa == self.dip:
                        self.dmac = sha
                        return
                f = self.recv(0.05)
        raise OSError("no ARP reply from sluice")

    def send_tcp(self, seq, ack, flags, win, data=b"", opts=b""):
        hlen = 20 + len(opts)
        th = struct.pack("!HHIIBBHHH", self.sport, self.dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                         (hlen // 4) << 4, flags, win, 0, 0) + opts
        seg = th + data
        ph = self.sip + self.dip + struct.pack("!BBH", 0, 6, len(seg))
        ck = (~csum(seg, csum(ph))) & 0xFFFF
        seg = seg[:16] + struct.pack("!H", ck) + seg[18:]
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), self.ip_id, 0x4000, 64, 6, 0,
                         self.sip, self.dip)
        ip = ip[:10] + struct.pack("!H", (~csum(ip)) & 0xFFFF) + ip[12:]
        self.send_frame(ip + seg)

    def recv_tcp(self, timeout):
        """Next segment of this flow as a dict, checksums verified (bad ones counted, skipped)."""
        end = time.time() + timeout
        while True:
            f = self.recv(max(0.0, end - time.time()))
            if f is None:
                return None
            if struct.unpack("!H", f[12:14])[0] != ETH_P_IP:
                continue
            ip = f[14:]
            ihl = (ip[0] & 0x0F) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            if ip[9] != 6 or ip[12:16] != self.dip or ip[16:20] != self.sip or tot > len(ip):
                continue
            seg = ip[ihl:tot]
            sport, dport = struct.unpack("!HH", seg[:4])
            if sport != self.dport or dport != self.sport:
                continue
            self.frames += 1
            if csum(ip[:ihl]) != 0xFFFF:
                self.bad_ip += 1
                continue
            ph = self.sip[:0] + ip[12:20] + struct.pack("!BBH", 0, 6, len(seg))
            if csum(seg, csum(ph)) != 0xFFFF:
                self.bad_tcp += 1
                continue
            seq, ack, off, flags, win = struct.unpack("!IIBBH", seg[4:16])
            return {"seq": seq, "ack": ack, "flags": flags, "win": win, "data": seg[(off >> 4) * 4:]}


def zerowin(peer, nbytes, win, segsz):
    data = os.urandom(nbytes)
    iss = random.randrange(1 << 32)
    mss_opt = struct.pack("!BBH", 2, 4, 1460)
    peer.arp()
    t_end = time.time() + DEADLINE_S
    syn_ack = None
    for _ in range(10):
        peer.send_tcp(iss, 0, SYN, 65535, opts=mss_opt)
        syn_ack = peer.recv_tcp(0.5)
        while syn_ack is not None and syn_ack["flags"] & (SYN | ACK) != SYN | ACK:
            syn_ack = peer.recv_tcp(0.5)
        if syn_ack is not None:
            break
    if syn_ack is None:
        print("zerowin: no SYN-ACK")
        return False
    rcv_nxt = (syn_ack["seq"] + 1) & 0xFFFFFFFF
    snd_una = snd_nxt = (iss + 1) & 0xFFFFFFFF
    base = snd_una  # sequence number of data[0]
    snd_wnd = syn_ack["win"]
    out = bytearray()
    unread = 0
    opened = False
    t_zero = None  # when our announced window reached zero
    probes = 0
    last_send = time.time()

    def our_win():
        return 65535 if opened else max(0, win - unread)

    peer.send_tcp(snd_nxt, rcv_nxt, ACK, our_win())
    while len(out) < nbytes and time.time() < t_end:
        # Send what sluice's window allows; go back to snd_una after 300 ms of silence.
        if time.time() - last_send > 0.3 and seq_lt(snd_una, snd_nxt):
            snd_nxt = snd_una
        sent_any = False
        while True:
            off = (snd_nxt - base) & 0xFFFFFFFF
            room = snd_wnd - ((snd_nxt - snd_una) & 0xFFFFFFFF)
            n = min(segsz, nbytes - off, room)
            if n <= 0:
                break
            peer.send_tcp(snd_nxt, rcv_nxt, ACK | PSH, our_win(), data[off:off + n])
            snd_nxt = (snd_nxt + n) & 0xFFFFFFFF
            sent_any = True
        if sent_any:
            last_send = time.time()
        seg = peer.recv_tcp(0.05)
        if seg is None:
            if not opened and t_zero is not None and time.time() - t_zero > 2:
                opened = True  # no probe seen: open anyway
                unread = 0
                peer.send_tcp(snd_nxt, rcv_nxt, ACK, our_win())
            continue
        if seg["flags"] & RST:
            print("zerowin: sluice reset the connection")
            return False
        if seg["flags"] & ACK and not seq_lt(seg["ack"], snd_una) and not seq_lt(snd_nxt, seg["ack"]):
            snd_una = seg["ack"]
            snd_wnd = seg["win"]
            last_send = time.time()
        d = seg["data"]
        if d and seg["seq"] == rcv_nxt and len(d) <= our_win():
            out += d
            rcv_nxt = (rcv_nxt + len(d)) & 0xFFFFFFFF
            if not opened:
                unread += len(d)
                if our_win() == 0 and t_zero is None:
                    t_zero = time.time()
            peer.send_tcp(snd_nxt, rcv_nxt, ACK, our_win())
        elif d or seg["seq"] == (rcv_nxt - 1) & 0xFFFFFFFF:
            # A zero-window probe (or data beyond the window): answer with the window.
            if not opened and our_win() == 0:
                probes += 1
                opened = True
                unread = 0
            peer.send_tcp(snd_nxt, rcv_nxt, ACK, our_win())
    peer.send_tcp(snd_nxt, rcv_nxt, RST | ACK, 0)
    ok = bytes(out) == data and peer.bad_ip == 0 and peer.bad_tcp == 0
    print(f"zerowin {len(out)}/{nbytes} bytes echoed, window {win}, segments {segsz}: "
          f"{peer.frames} frames, {peer.bad_tcp} bad TCP checksums, {peer.bad_ip} bad IP checksums, "
          f"zero window {'reached' if t_zero else 'NOT reached'}, {probes} probe(s) answered, "
          f"data {'intact' if bytes(out) == data else 'WRONG'}")
    return ok


def main(argv):
    if len(argv) < 7 or argv[1] != "zerowin":
        print(__doc__, file=sys.stderr)
        return 2
    iface, sip, dip, dport, nbytes = argv[2], argv[3], argv[4], int(argv[5]), int(argv[6])
    opts = {"--win": 4999, "--seg": 1460, "--sport": random.randrange(40000, 60000)}
    rest = argv[7:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            print(__doc__, file=sys.stderr)
            return 2
        opts[rest[0]] = int(rest[1])
        rest = rest[2:]
    peer = Peer(iface, sip, dip, dport, opts["--sport"])
    try:
        return 0 if zerowin(peer, nbytes, opts["--win"], opts["--seg"]) else 1
    except OSError as e:
        print(f"zerowin: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
