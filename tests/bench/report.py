#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Figures for tests/bench/run.sh.

usage:
  report.py sluice-stats < STATS_JSON   key=value figures from one sluice stats line
  report.py slab                        key=value bytes of the socket slab caches (/proc/slabinfo)
  report.py table RESULTS               the table, from the key=value records run.sh wrote

A record is one line of key=value words; `kind` and `sys` say what it measured.
Medians are taken over runs; a ratio is sluice / Linux. Missing figures print as n/a.
"""
import json
import statistics
import sys

# Caches that grow with each open socket: the socket itself (TCP), its inode, file and dentry,
# the epoll registration, the bind buckets of bound ports.
SLAB_CACHES = ["TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi", "tcp_bind_bucket",
               "tcp_bind2_bucket"]


def sluice_stats():
    d = json.loads(sys.stdin.read())
    port = d["ports"][0]
    tcp = d["tcp"]
    out = {
        "busy_s": sum(w["busy_seconds"] for w in d["workers"]),
        "pkts": sum(p["rx_packets"] + p["tx_packets"] for p in d["ports"]),
        "rx": port["rx_packets"],
        "tx": port["tx_packets"],
        "conns": tcp["conns"],
        "segs": tcp["segments_in"] + tcp["segments_out"],
        "retrans": tcp["retransmits"],
    }
    # The mbuf pool's occupancy, when sluice reports it (see the bench README paragraph).
    mb = d.get("mbufs")
    if isinstance(mb, dict) and "in_use" in mb:
        out["mbufs_in_use"] = mb["in_use"]
    print(" ".join(f"{k}={v}" for k, v in out.items()))


def slab():
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            w = line.split()
            if w and w[0] in SLAB_CACHES:
                out[w[0]] = int(w[1]) * int(w[3])  # active objects * object size
                out["objsize_" + w[0]] = int(w[3])
    print(" ".join(f"{k}={v}" for k, v in out.items()))


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            r = {}
            for w in line.split():
                k, _, v = w.partition("=")
                try:
                    r[k] = float(v)
                except ValueError:
                    r[k] = v
            if r:
                recs.append(r)
    return recs


def pick(recs, **want):
    return [r for r in recs if all(r.get(k) == v for k, v in want.items())]


class Fig(float):
    """A median that remembers how far its runs spread: (max - min) / 2 / median."""

    spread = None


def median(vals):
    vals = [v for v in vals if isinstance(v, float) and v == v]
    if not vals:
        return None
    m = Fig(statistics.median(vals))
    if len(vals) > 1 and m:
        m.spread = (max(vals) - min(vals)) / 2 / abs(m)
    return m


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    return f"{v:,.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def spread(v):
    s = getattr(v, "spread", None)
    return "" if s is None else f"{s * 100:.0f}%"


def row(label, a, b, nd=0, width=50):
    sp = ""
    if spread(a) or spread(b):
        sp = f"  ±{spread(a) or '-'} / ±{spread(b) or '-'}"
    print(f"  {label:<{width}} {fmt(a, nd):>9} {fmt(b, nd):>9} {ratio(a, b):>6}{sp}")


METHOD = """\
how each figure was obtained
  1  sl-tcpbench (C, one socket, 64 KB send()/recv()) for the run's length; discard: bytes sent
     until the server's FIN answers ours, over the time to that FIN; chargen: bytes read. The same
     client, pinned the same way, against sluice (TAP) and the Linux server (veth, TSO/GSO on, no
     RPS: as shipped).
  2  sl-tcpbench cps: N non-blocking connections kept in flight (epoll), each connect, 100 B sent,
     100 B read back, close; completions within the run's length / length. Clients close first and
     keep TIME-WAIT (tcp_tw_reuse=1, ports 1024-65000 in the client namespaces).
  3  sluice: sl-bench-connmem calls sluice's own sl_tcp_worker_create() for max_connections 64 and
     65536 and reads the DPDK heap before and after; the slope is what one slot reserves (connection
     mempool object + rte_hash table share), used or not. mbufs held: the pool's occupancy with the
     connections open minus before. Linux: /proc/slabinfo (active objects x size) for the socket
     caches with N idle connections open, minus the same with N open to sluice (the same client
     sockets, no server sockets), / N; plus the server process's RSS growth / N. Buffers of idle
     sockets hold nothing (sockstat "mem" is global and batched per CPU: shown, not added).
  4  discard stream with RPS steering each side's kernel receive work to its own CPU (client CPU 0,
     server CPU 1); a window of (run length - 1 s) from 0.5 s into the stream. Packets in the
     window: sluice, frames through sl0 (kernel counters); Linux, segs_in + segs_out of the server
     socket (ss/TCP_INFO, MSS-sized: with TSO/GRO one 64 KB skb carries ~45). perf: cpu-clock
     samples of CPU 1 (1 kHz) that are ours - the worker thread, or the server thread plus
     ksoftirqd and softirq work in the idle task - so other processes on CPU 1 are left out (our
     softirq work that lands in another process is missed). Ticks: /proc/stat user+system+irq+
     softirq of CPU 1 (250 Hz, everything on CPU 1). busy_seconds: sluice's counter x TSC / rx+tx
     frames of its port over the whole run; it counts wall time, so preemption inflates it. The
     split is the worker's samples by DSO (in a VM, time with interrupts off lands where they are
     turned back on); "own code" is the sluice + DPDK share of the perf figure.
"""


def table(path):
    recs = load(path)
    env = (pick(recs, kind="env") or [{}])[0]
    cm = (pick(recs, kind="connmem") or [{}])[0]
    tsc = cm.get("tsc_hz") or 0.0
    hz = env.get("clk_tck", 100.0)
    runs = int(env.get("runs", 0))
    secs = int(env.get("secs", 0))

    print("sluice benchmarks: sluice's TCP stack (TAP testbed) vs the Linux kernel (veth), "
          "same run")
    end = (pick(recs, kind="env_end") or [{}])[0]
    model = str(env.get("model", "?")).replace("_", " ")
    print(f"machine: {int(env.get('cpus', 0))} CPUs, {model}, Linux {env.get('kernel', '?')}, "
          f"TSC {tsc / 1e6:.0f} MHz")
    print(f"other load (CPU busy while the benchmark is quiet for 1 s): before CPU0 "
          f"{fmt(env.get('bg_cpu0'))}% CPU1 {fmt(env.get('bg_cpu1'))}%, after CPU0 "
          f"{fmt(end.get('bg_cpu0'))}% CPU1 {fmt(end.get('bg_cpu1'))}%")
    print(f"median of {runs} interleaved runs of {secs} s; ratio = sluice / Linux; ±: half the "
          f"range of the runs (sluice / Linux)")
    if env.get("pinned") == "yes":
        print("placement: clients on CPU 0 (with sluice's control-plane lcore, asleep); sluice's "
              "one worker (idle: adaptive)")
        print("  and the Linux server on CPU 1. With 2 cores the worker is not alone: the client, "
              "the kernel's TAP work")
        print("  and anything else on the machine share the CPUs with it; the TAP costs one "
              "syscall per packet each way.")
    else:
        print("placement: not pinned (fewer than 2 CPUs or BENCH_PIN=0): sluice's worker "
              "(idle: adaptive) shares a CPU with the client; \"CPU 1\" figures are all CPUs")
    print()
    print(f"  {'':<50} {'sluice':>9} {'Linux':>9} {'ratio':>6}")

    print("1 bulk throughput, MB/s (one connection; one worker vs one server thread)")
    for d, label in (("send", "client -> server (discard)"),
                     ("recv", "server -> client (chargen)")):
        row("  " + label,
            median(r.get("MBps") for r in pick(recs, kind="bulk", sys="sluice", dir=d)),
            median(r.get("MBps") for r in pick(recs, kind="bulk", sys="linux", dir=d)), 1)

    slow = []  # runs far below their median: a stall, not noise
    for d, label in (("send", "discard"), ("recv", "chargen")):
        for sysname in ("sluice", "linux"):
            rs = pick(recs, kind="bulk", sys=sysname, dir=d)
            m = median(r.get("MBps") for r in rs)
            for r in rs:
                if m and isinstance(r.get("MBps"), float) and r["MBps"] < m / 4:
                    rt = f", client retransmits {int(r['retrans'])}" if "retrans" in r else ""
                    slow.append(f"{sysname} {label} run {int(r.get('run', 0))}: "
                                f"{r['MBps']:.1f} MB/s{rt}")
    for line in slow:
        print(f"      below a quarter of its median: {line}")
    par = int(env.get("parallel", 0))
    print(f"2 connections per second (connect, 100 B echoed, close; {par} in parallel)")
    c_s = pick(recs, kind="cps", sys="sluice")
    c_l = pick(recs, kind="cps", sys="linux")
    row("  completed per second", median(r.get("cps") for r in c_s),
        median(r.get("cps") for r in c_l))
    err_s = sum(r.get("errors", 0) for r in c_s)
    err_l = sum(r.get("errors", 0) for r in c_l)

    ms = (pick(recs, kind="mem", sys="sluice") or [{}])[0]
    ml = (pick(recs, kind="mem", sys="linux") or [{}])[0]
    n = ms.get("open") or 0
    print(f"3 memory per idle connection, bytes ({int(n):,} open to echo, 16 B echoed on each)")
    kern = None
    per_cache = {}
    if ms and ml and ms.get("open") == ml.get("open") and n:
        kern = 0.0
        for c in SLAB_CACHES:
            if c in ml and c in ms:
                per_cache[c] = (ml[c] - ms[c]) / n
                kern += per_cache[c]
    lrss = ml.get("rss_delta_kb", 0) * 1024 / n if n and ml else None
    lin_total = kern + lrss if kern is not None and lrss is not None else None
    slot = cm.get("slot_bytes")
    mb_per = ms.get("mbufs_delta") / n if n and isinstance(ms.get("mbufs_delta"), float) else None
    sl_total = slot + (mb_per or 0) * cm.get("mbuf_bytes", 0) if slot is not None else None
    row("  server side, total", sl_total, lin_total)
    row("  sluice: reserved per max_connections slot", slot, None)
    print(f"      sizeof(struct sl_tcp_conn) {fmt(cm.get('sizeof_conn'))}, mempool object "
          f"{fmt(cm.get('mempool_obj'))}, the rest is the connection table")
    if mb_per is not None:
        print(f"      mbufs held per idle connection: {mb_per:.3f} (one mbuf: "
              f"{fmt(cm.get('mbuf_bytes'))} B)")
    else:
        print("      mbufs held per idle connection: n/a (sluice reports no mbuf pool occupancy)")
    if n:
        print(f"      connections in sluice's table while held: {fmt(ms.get('conns'))}; RSS growth "
              f"{fmt(ms.get('rss_delta_kb', 0) * 1024 / n)} B/conn (reserved pages first touched)")
    row("  Linux: kernel slab per server socket", None, kern)
    if per_cache:
        print("      " + ", ".join(f"{c} {v:,.0f}" for c, v in per_cache.items()
                                   if abs(v) >= 0.5))
        one_each = sum(ml.get("objsize_" + c, 0) for c in
                       ("TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi"))
        print(f"      one object each of these five: {one_each:,.0f} B (dentry and filp also move "
              f"with other activity);")
        print(f"      sockstat TCP mem {fmt(ml.get('sockmem_delta'))} pages for all sockets "
              f"(not added)")
    row("  Linux: server process RSS growth per connection", None, lrss)

    cs = pick(recs, kind="cpu", sys="sluice")
    cl = pick(recs, kind="cpu", sys="linux")
    cn = pick(recs, kind="cpu", sys="linux-nooffload")

    def perf_cyc(r):  # perf: on-CPU time that is ours, per packet in the window
        if not r.get("win_pkts") or not isinstance(r.get("ours_ns"), float):
            return None
        return r["ours_ns"] / 1e9 * tsc / r["win_pkts"]

    def tick_cyc(r):  # /proc/stat: all of CPU 1, per packet in the window
        if not r.get("win_pkts"):
            return None
        return r["cpu1_j"] / hz * tsc / r["win_pkts"]

    def busy_cyc(r):  # sluice's own counter over the whole run
        if not r.get("pkts") or not isinstance(r.get("busy_s"), float):
            return None
        return r["busy_s"] * tsc / r["pkts"]

    def pkts_mb(r):
        return r["pkts"] / (r["bytes"] / 1e6) if r.get("bytes") and r.get("pkts") else None

    print(f"4 server CPU per packet in a discard stream, cycles at {tsc / 1e6:.0f} MHz "
          f"({'RPS on' if env.get('pinned') == 'yes' else 'not pinned, no RPS'}; see below)")
    sp, lp = median(perf_cyc(r) for r in cs), median(perf_cyc(r) for r in cl)
    st, lt = median(tick_cyc(r) for r in cs), median(tick_cyc(r) for r in cl)
    how = "perf"
    if sp is None or lp is None:  # no perf: the tick figures stand in
        sp, lp, how, main = st, lt, "ticks", tick_cyc
    else:
        main = perf_cyc
    row("  on CPU 1, perf: sluice worker / Linux server+softirq", median(perf_cyc(r) for r in cs),
        median(perf_cyc(r) for r in cl))
    row("  on CPU 1, /proc/stat ticks (all of CPU 1)", st, lt)
    row(f"  sluice busy_seconds (whole run) / Linux {how}", median(busy_cyc(r) for r in cs), lp)
    row(f"  Linux with veth TSO/GSO/GRO off, {how}", sp, median(main(r) for r in cn))
    s_pm, l_pm = median(pkts_mb(r) for r in cs), median(pkts_mb(r) for r in cl)
    row("  packets per MB (sluice frames / Linux segments)", s_pm, l_pm)
    row(f"  CPU ms per MB ({how} figure x packets per MB)",
        sp * s_pm / tsc * 1e3 if sp and s_pm and tsc else None,
        lp * l_pm / tsc * 1e3 if lp and l_pm and tsc else None, 2)
    row("  MB/s during these runs", median(r.get("MBps") for r in cs),
        median(r.get("MBps") for r in cl), 1)
    li = median(r.get("irq") for r in cl)
    if li is not None:
        print(f"      Linux: {li:.0f}% of that CPU time is receive work outside the server thread "
              f"(softirq, RPS)")

    def split(label, rs):
        cyc = median(perf_cyc(r) for r in rs)
        if cyc is None:
            print(f"  sluice's worker, {label}: no profile (needs perf)")
            return
        m = {k: median(r.get(k) for r in rs) for k in ("kernel", "tap", "own", "libc", "service")}
        mbps = median(r.get("MBps") for r in rs)
        print(f"  sluice's worker in the {label} stream ({fmt(mbps, 1)} "
              f"MB/s, {fmt(cyc)} cycles/frame): kernel {fmt(m['kernel'])}%, TAP PMD "
              f"{fmt(m['tap'])}%,")
        print(f"      sluice + DPDK {fmt(m['own'])}%, libc and other {fmt(m['libc'])}% of its "
              f"samples")
        row(f"  sluice's own code per packet, {label}", cyc * (m["own"] or 0) / 100, None)
        if m["service"]:
            print(f"      of which the {label} service itself: {fmt(cyc * m['service'] / 100)}")

    split("discard", cs)
    split("chargen", pick(recs, kind="profile", dir="recv"))
    print()
    if err_s or err_l:
        print(f"note: short-connection errors: sluice {int(err_s)}, Linux {int(err_l)}")
    for r in pick(recs, kind="failed"):
        print(f"note: not measured: {str(r.get('what', '?')).replace('_', ' ')}")
    print(METHOD, end="")


def main(argv):
    if len(argv) >= 2 and argv[1] == "sluice-stats":
        sluice_stats()
    elif len(argv) >= 2 and argv[1] == "slab":
        slab()
    elif len(argv) == 3 and argv[1] == "table":
        table(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
