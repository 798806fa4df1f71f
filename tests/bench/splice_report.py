# SPDX-License-Identifier: MIT
"""The table of tests/bench/splice.sh: wrk's output plus CPU time, per proxy and phase.

  splice_report.py WORKDIR

WORKDIR holds, for PROXY in haproxy sluice and PHASE in keepalive close:
  wrk-PROXY-PHASE.txt   wrk --latency output
  cpu-PROXY-PHASE.txt   the proxy's CPU seconds over the phase (one number)
and optionally sluice-PHASE.txt: lines "name value" of sluice counters over the phase.
Prints figures and sluice/HAProxy ratios; never passes or fails.
"""
import os
import re
import sys

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse_wrk(path):
    r = {"rps": None, "p50": None, "p99": None, "max": None, "errors": 0, "requests": None}
    try:
        text = open(path).read()
    except OSError:
        return None
    m = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", text)
    if m:
        r["max"] = ms(m.group(1))
    for q in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % q, text, re.M)
        if m:
            r["p" + q] = ms(m.group(1))
    m = re.search(r"(\d+) requests in", text)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["errors"] += int(m.group(1))
    return r if r["requests"] is not None else None


def read_num(path):
    try:
        return float(open(path).read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.0f us" % (v * 1e3) if v < 1 else "%.1f ms" % v if v < 100 else "%.0f ms" % v


def ratio(a, b, fmt="%.2fx"):
    return fmt % (a / b) if a is not None and b else "-"


def main(work):
    rows = {}
    for proxy in ("haproxy", "sluice"):
        for phase in ("keepalive", "close"):
            w = parse_wrk(os.path.join(work, "wrk-%s-%s.txt" % (proxy, phase)))
            cpu = read_num(os.path.join(work, "cpu-%s-%s.txt" % (proxy, phase)))
            if w is not None and cpu is not None and w["requests"]:
                w["cpu_us"] = cpu / w["requests"] * 1e6
            elif w is not None:
                w["cpu_us"] = None
            rows[(proxy, phase)] = w
    hdr = "%-11s %-8s %9s %9s %9s %9s %7s %9s" % ("phase", "proxy", "req/s", "p50", "p99",
                                                   "max", "errors", "CPU/req")
    print(hdr)
    print("-" * len(hdr))
    for phase, label in (("keepalive", "keep-alive"), ("close", "conn/req")):
        for proxy in ("haproxy", "sluice"):
            r = rows.get((proxy, phase))
            if r is None:
                print("%-11s %-8s %s" % (label, proxy, "not measured"))
                continue
            print("%-11s %-8s %9.0f %9s %9s %9s %7d %9s" % (
                label, proxy, r["rps"] or 0, fmt_ms(r["p50"]), fmt_ms(r["p99"]),
                fmt_ms(r["max"]), r["errors"],
                "%.1f us" % r["cpu_us"] if r["cpu_us"] is not None else "-"))
        h, s = rows.get(("haproxy", phase)), rows.get(("sluice", phase))
        if h and s:
            print("%-11s %-8s %9s %9s %9s %9s %7s %9s" % (
                "", "s/h", ratio(s["rps"], h["rps"]), ratio(s["p50"], h["p50"]),
                ratio(s["p99"], h["p99"]), ratio(s["max"], h["max"]), "",
                ratio(s["cpu_us"], h["cpu_us"])))
    for phase in ("keepalive", "close"):
        p = os.path.join(work, "sluice-%s.txt" % phase)
        if not os.path.exists(p):
            continue
        kv = dict(l.split() for l in open(p) if len(l.split()) == 2)
        est = kv.pop("busy_cpu_s", None)
        r, h = rows.get(("sluice", phase)), rows.get(("haproxy", phase))
        if est is not None and r and r["requests"]:
            us = float(est) / r["requests"] * 1e6
            print("sluice CPU/req over %s, as thread CPU time x busy share: %.1f us (%s of "
                  "HAProxy's)" % (phase, us, ratio(us, h["cpu_us"] if h else None)))
        print("sluice counters over %s: %s" % (phase, " ".join("%s=%s" % x for x in kv.items())))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
