#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where a proxy's CPU goes on the veth testbed, from a system-wide `perf record -g`.

On a veth pair the kernel runs a frame's whole receive path (IP, TCP, waking the reader) in
the softirq of the *sender*, inside its send call. So a proxy's measured CPU holds the receive
work of every frame it sends to wrk and to the backends, and the receive work of the frames
wrk and the backends send to the proxy is charged to them (on CPU 0). With a NIC neither
happens: the receiver's CPU does its own receive.

Reads `perf script -F comm,cpu,ip,sym` (call graphs) on stdin and prints one JSON line of
sample counts:
  proxy      samples of the proxy's own thread on its CPU (--cpu, --comm: a prefix)
  peer_rx    of those, receive processing of frames the proxy sent (the peers' work)
  kernel     of those, the rest in the kernel: a kernel proxy's own TCP/IP and system calls;
             for sluice the kernel's af_packet transmit (its worker makes no other system call)
  rx_by_peers  samples on the other CPUs in receive processing: the frames wrk and the
             backends sent to the proxy, received on the proxy's behalf (for a kernel proxy
             its IP/TCP receive and wake-up; for sluice, af_packet copying into its RX ring)
Receive processing: a stack holding __netif_receive_skb* (the protocol part of the softirq,
not the freeing of transmitted skbs that runs in the same softirq).
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", type=int, required=True)
    ap.add_argument("--comm", required=True)
    ap.add_argument("--period-ns", type=int, required=True)
    a = ap.parse_args()
    n = {"proxy": 0, "peer_rx": 0, "kernel": 0, "rx_by_peers": 0, "samples": 0, "period_ns": a.period_ns}
    head, rx, kern = None, False, False

    def done():
        if head is None:
            return
        comm, cpu = head
        n["samples"] += 1
        if cpu == a.cpu and comm.startswith(a.comm):
            n["proxy"] += 1
            n["peer_rx"] += rx
            n["kernel"] += bool(kern) and not rx
        elif cpu != a.cpu and rx:
            n["rx_by_peers"] += 1

    for line in sys.stdin:
        if not line.strip():
            continue
        if line[0] not in " \t":
            done()
            # "comm [001] " (a comm may hold spaces: the CPU field is the last bracket)
            i = line.rfind("[")
            head = (line[:i].strip(), int(line[i + 1:line.index("]", i)]))
            rx, kern = False, None
            continue
        parts = line.split(None, 1)
        if kern is None:  # the sample's own frame: a kernel address or a user one
            kern = int(parts[0], 16) >= 0xffff800000000000
        if len(parts) == 2 and parts[1].startswith("__netif_receive_skb"):
            rx = True
    done()
    print(json.dumps(n))


if __name__ == "__main__":
    main()
