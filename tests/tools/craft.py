#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Send crafted (mostly malformed) frames at sluice from the kernel side of the TAP.

usage: craft.py IFACE DST_MAC SRC_IP DST_IP KIND [COUNT]
       craft.py list

Each KIND is named after the sluice drop reason it must increment.
Uses Debian's python3-scapy (run with /usr/bin/python3).
"""
import sys

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, conf, sendp  # noqa: E402

conf.verb = 0


def frames(src_mac, dst_mac, sip, dip):
    eth = Ether(src=src_mac, dst=dst_mac)
    echo = ICMP(type=8, id=0x5151, seq=1) / Raw(b"sluice-malformed-test")
    return {
        # arp_not_us uses a sender sluice does not know: ARP from a known sender refreshes its
        # entry (RFC 826 merge), which is not a drop.
        # No eth_runt: the kernel pads an AF_PACKET frame shorter than an Ethernet header
        # to 14 bytes before the TAP sees it. The dataplane unit tests cover runts.
        "eth_type": bytes(Ether(src=src_mac, dst=dst_mac, type=0x86DD) / Raw(b"\x60" + b"\0" * 59)),
        "eth_not_us": bytes(Ether(src=src_mac, dst="02:de:ad:be:ef:01") / IP(src=sip, dst=dip) / echo),
        "ip_checksum": bytes(eth / IP(src=sip, dst=dip, chksum=0x1234) / echo),
        "ip_version": (lambda b: b[:14] + bytes([0x65]) + b[15:])(bytes(eth / IP(src=sip, dst=dip) / echo)),
        "ip_hdrlen": bytes(eth / IP(src=sip, dst=dip, ihl=3) / echo),
        "ip_truncated": bytes(eth / IP(src=sip, dst=dip, len=1000) / echo),
        "ip_length": bytes(eth / IP(src=sip, dst=dip, len=12) / echo),
        "ip_fragment": bytes(eth / IP(src=sip, dst=dip, flags="MF", frag=0) / echo),
        "ip_proto": bytes(eth / IP(src=sip, dst=dip) / UDP(sport=5353, dport=5353) / Raw(b"x" * 8)),
        "ip_bad_src": bytes(eth / IP(src="127.0.0.1", dst=dip) / echo),
        "ip_not_us": bytes(eth / IP(src=sip, dst="198.18.0.77") / echo),
        "icmp_checksum": bytes(eth / IP(src=sip, dst=dip) / ICMP(type=8, chksum=0xBEEF) / Raw(b"x" * 8)),
        "icmp_truncated": bytes(eth / IP(src=sip, dst=dip, proto=1) / Raw(b"\x08\x00")),
        "icmp_type": bytes(eth / IP(src=sip, dst=dip) / ICMP(type=13) / Raw(b"\0" * 12)),
        "arp_malformed": bytes(Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff")
                               / ARP(hwtype=6, op=1, hwsrc=src_mac, psrc=sip, pdst=dip)),
        "arp_not_us": bytes(Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff")
                            / ARP(op=1, hwsrc=src_mac, psrc="198.18.0.99", pdst="198.18.0.78")),
    }


def main(argv):
    if len(argv) == 2 and argv[1] == "list":
        print("\n".join(sorted(frames("02:00:00:00:00:01", "02:00:00:00:00:02", "198.18.0.1", "198.18.0.2"))))
        return 0
    if len(argv) not in (6, 7):
        print(__doc__, file=sys.stderr)
        return 2
    iface, dst_mac, sip, dip, kind = argv[1:6]
    count = int(argv[6]) if len(argv) == 7 else 1
    src_mac = open(f"/sys/class/net/{iface}/address").read().strip()
    table = frames(src_mac, dst_mac, sip, dip)
    if kind not in table:
        print(f"craft.py: unknown kind {kind!r}; try 'craft.py list'", file=sys.stderr)
        return 2
    sendp(table[kind], iface=iface, count=count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
