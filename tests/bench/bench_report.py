# SPDX-License-Identifier: MIT
"""The table of scripts/bench.sh: medians over rounds of wrk's figures and CPU per request.

usage: python3 bench_report.py WORKDIR N_IDLE
WORKDIR holds res-PROXY-CASE-PATH-ROUND.{wrk,cpu} and res-mem-PROXY, connmem.txt, and for the
rate limit with many client addresses mc-PROXY-TAG.{out,cpu,s0,s1,tbl} (TAG: fill or a round),
described by BENCH_MC="ADDRESSES RATE BURST HOT HOT_RATE REQS_PER_CONN". Exit status 1 when one
of that case's checks fails.
"""
import glob
import json
import os
import re
import statistics
import sys

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def lat_ms(text, pct):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, text, re.M)
    return float(m.group(1)) * UNIT[m.group(2)] if m else float("nan")


def parse(path):
    t = open(path).read()
    m = re.search(r"(\d+) requests in", t)
    reqs = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", t)
    rps = float(m.group(1)) if m else 0.0
    errs = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    if m:
        errs += int(m.group(1))
    cpu = float(open(path[:-4] + ".cpu").read())
    return {"reqs": reqs, "rps": rps, "p50": lat_ms(t, 50), "p99": lat_ms(t, 99), "errs": errs,
            "us_req": cpu / reqs * 1e6 if reqs else float("nan")}


def kv(path):
    try:
        return {k: float(v) for k, v in (w.split("=", 1) for w in open(path).read().split())}
    except (OSError, ValueError):
        return None


def mc_load(work, p, tag):
    """One sl-manysrc run against proxy p: its figures, the CPU it cost, the table size."""
    base = os.path.join(work, "mc-%s-%s" % (p, tag))
    d = kv(base + ".out")
    if d is None:
        return None
    answered = d["requests"] + d["hot_ok"] + d["hot_429"] + d["hot_other"]
    cpu = float(open(base + ".cpu").read())
    d["us_req"] = cpu / answered * 1e6 if answered else float("nan")
    d["table"] = float("nan")
    d["limited"] = float("nan")  # sluice's own count of 429s over the run
    if p == "haproxy":
        try:
            d["table"] = float(open(base + ".tbl").read())
        except (OSError, ValueError):
            pass
    else:
        try:
            a = json.load(open(base + ".s0")); b = json.load(open(base + ".s1"))
            d["table"] = b["rate_limit_table"]["entries"]
            d["capacity"] = b["rate_limit_table"]["capacity"]
            d["limited"] = b["http"]["rate_limited"] - a["http"]["rate_limited"]
        except (OSError, ValueError, KeyError):
            pass
    return d


def mc_report(work):
    """The rate limit with many client addresses; returns the number of failed checks."""
    if not os.environ.get("BENCH_MC"):
        return 0
    naddr, rate, burst, hot, hot_rate, k = (float(x) for x in os.environ["BENCH_MC"].split())
    runs = {}
    for f in sorted(glob.glob(os.path.join(work, "mc-*-*.out"))):
        _, p, tag = os.path.basename(f)[:-4].split("-")
        d = mc_load(work, p, tag)
        if d:
            runs.setdefault(p, {})[tag] = d
    if not runs:
        return 0
    print()
    print("Rate limit, %d client addresses (sl-manysrc, %d connections, %d requests per "
          "connection; limit %g/s burst %d per address; %d hot addresses at %g/s each):" % (
              naddr, 50 if "BENCH_CONNS" not in os.environ else int(os.environ["BENCH_CONNS"]),
              k, rate, burst, hot, hot_rate))
    print()
    print("| phase | proxy | req/s | rounds' range | p50 ms | p99 ms | 2xx | 429 | errors | CPU µs/req "
          "| table entries | hot: admitted per address | req/s ÷ HAProxy | CPU ÷ HAProxy |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    fails = []
    med = {}
    for p in ("sluice", "haproxy"):
        rs = [d for t, d in runs.get(p, {}).items() if t != "fill"]
        if not rs:
            continue
        m = {f: statistics.median(d[f] for d in rs) for f in ("rps", "p50_ms", "p99_ms", "us_req")}
        m["lo"] = min(d["rps"] for d in rs); m["hi"] = max(d["rps"] for d in rs)
        for f in ("ok", "r429", "errors", "unfinished", "other", "hot_ok", "hot_429",
                  "hot_errors", "hot_other"):
            m[f] = sum(d[f] for d in rs)
        m["table"] = min(d["table"] for d in rs)
        hr = [(d["hot_ok"] / d["hot"] - burst) / d["hot_secs"] for d in rs
              if d["hot"] and d["hot_secs"] > 0]
        m["hot_lo"] = min(hr) if hr else float("nan")
        m["hot_hi"] = max(hr) if hr else float("nan")
        m["hot_med"] = statistics.median(hr) if hr else float("nan")
        m["limited"] = sum(d["limited"] for d in rs)
        m["hot_each"] = statistics.median(d["hot_ok"] / d["hot"] for d in rs if d["hot"])
        m["hot_secs"] = statistics.median(d["hot_secs"] for d in rs)
        med[p] = m
    ha = med.get("haproxy")
    hf = runs.get("haproxy", {}).get("fill")
    for p in ("sluice", "haproxy"):
        fill = runs.get(p, {}).get("fill")
        if fill:
            r1 = "%.2f" % (fill["rps"] / hf["rps"]) if hf and hf["rps"] else "-"
            r2 = "%.2f" % (fill["us_req"] / hf["us_req"]) if hf and hf["us_req"] else "-"
            print("| fill: each address once, 1 request per connection | %s | %.0f | - | %.2f | %.2f "
                  "| %d | %d | %d | %.1f | %.0f | - | %s | %s |" % (
                      p, fill["rps"], fill["p50_ms"], fill["p99_ms"], fill["ok"], fill["r429"],
                      fill["errors"] + fill["other"] + fill["unfinished"], fill["us_req"],
                      fill["table"], r1, r2))
    for p in ("sluice", "haproxy"):
        m = med.get(p)
        if not m:
            continue
        r1 = "%.2f" % (m["rps"] / ha["rps"]) if ha and ha["rps"] else "-"
        r2 = "%.2f" % (m["us_req"] / ha["us_req"]) if ha and ha["us_req"] else "-"
        print("| rounds, table full | %s | %.0f | %.0f-%.0f | %.2f | %.2f | %d (+%d hot) | %d (+%d hot) "
              "| %d | %.1f | %.0f (min) | %.1f in %.1f s | %s | %s |" % (
                  p, m["rps"], m["lo"], m["hi"], m["p50_ms"], m["p99_ms"], m["ok"], m["hot_ok"],
                  m["r429"], m["hot_429"], m["errors"] + m["other"] + m["unfinished"] +
                  m["hot_errors"] + m["hot_other"], m["us_req"], m["table"], m["hot_each"],
                  m["hot_secs"], r1, r2))
    print()
    # The checks: what the case must show to mean anything.
    checks = []
    for p in ("sluice", "haproxy"):
        m = med.get(p)
        fill = runs.get(p, {}).get("fill")
        if not m or not fill:
            checks.append(("%s ran the fill and the rounds" % p, False))
            continue
        checks.append(("%s's table held >= 90%% of the %d addresses (%.0f)" % (p, naddr, m["table"]),
                       m["table"] >= 0.9 * naddr))
        bad = (m["errors"] + m["other"] + m["unfinished"] + m["hot_errors"] + m["hot_other"] +
               fill["errors"] + fill["other"] + fill["unfinished"])
        checks.append(("%s: no errors (%d)" % (p, bad), bad == 0))
        n429 = m["r429"] + fill["r429"]
        checks.append(("%s: no 429 for an address under its limit (%d)" % (p, n429), n429 == 0))
        checks.append(("%s: every hot address got 429s (%d)" % (p, m["hot_429"]), m["hot_429"] > 0))
    m = med.get("sluice")
    if m:
        # A round in which the proxy or the client was off the CPU for longer than
        # burst / rate (1 s) admits less: the hot requests then arrive in clumps, and a bucket
        # holds no more than its burst (the offered rate is printed for that). So the median
        # over rounds must be within 10% of the rate, and no round above it by more than 10%.
        per = ["%.2f/s of %.1f/s offered" % (
            (d["hot_ok"] / d["hot"] - burst) / d["hot_secs"],
            (d["hot_ok"] + d["hot_429"]) / d["hot"] / d["hot_secs"])
            for t, d in sorted(runs["sluice"].items()) if t != "fill" and d["hot"] and d["hot_secs"] > 0]
        checks.append(("sluice admitted each hot address at %g/s +-10%% after its burst of %d, "
                       "median of the rounds, no round above (rounds: %s)" % (
                           rate, burst, "; ".join(per)),
                       0.9 * rate <= m["hot_med"] <= 1.1 * rate and m["hot_hi"] <= 1.1 * rate))
        sent = m["r429"] + m["hot_429"]
        checks.append(("sluice counted the 429s the client saw (%d, %d)" % (m["limited"], sent),
                       m["limited"] == sent))
    for what, ok in checks:
        print("- check: %s: %s" % (what, "ok" if ok else "FAILED"))
    return sum(1 for _, ok in checks if not ok)


def main():
    work, nidle = sys.argv[1], int(sys.argv[2])
    table(work, nidle)
    sys.exit(1 if mc_report(work) else 0)


def equal_terms(work, names):
    """--perf: CPU per request with each proxy charged its own receive work (perf_attrib.py)."""
    rows = {}
    for f in sorted(glob.glob(os.path.join(work, "res-*-*-*-*.attr"))):
        _, p, c, path, _r = os.path.basename(f)[:-5].split("-")
        try:
            a = json.loads(open(f).read())
        except (OSError, ValueError):
            continue
        w = parse(f[:-5] + ".wrk")
        if not w["reqs"]:
            continue
        us = a["period_ns"] / 1000.0 / w["reqs"]
        peer, own, kern = a["peer_rx"] * us, a["rx_by_peers"] * us, a.get("kernel", 0) * us
        rows.setdefault((c, path, p), []).append(
            {"cpu": w["us_req"], "peer": peer, "own": own, "eq": w["us_req"] - peer + own,
             "kern": kern, "user": max(w["us_req"] - peer - kern, 0.0)})
    if not rows:
        return
    print()
    print("CPU per request on equal terms (--perf; perf samples every 250 us of CPU time on both CPUs):")
    print("the measured figure, less the receive work of the frames the proxy sent (on veth the")
    print("kernel runs the receiver's IP/TCP in the sender's send call), plus the receive work of")
    print("the frames sent to the proxy (charged to wrk and the backend on CPU 0; for sluice, af_packet")
    print("copying them into its RX ring). The measured figure splits into the peers' receive, the rest")
    print("of the proxy's kernel time (for sluice the kernel's af_packet transmit, inside the PMD's")
    print("sendto: the worker makes no other system call) and user space (for sluice its own code and")
    print("the PMD's copies). Medians over rounds.")
    print()
    print("| case | proxy | CPU µs/req (measured) | peers' receive in it | kernel, the rest | user space "
          "| own receive paid by the peers | equal terms µs/req | ÷ HAProxy |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    fields = ("cpu", "peer", "own", "eq", "kern", "user")
    med = {k: {f: statistics.median(x[f] for x in v) for f in fields} for k, v in rows.items()}
    order = ("sluice", "haproxy", "nginx", "tap")
    for (c, path, p), m in sorted(med.items(), key=lambda kv: (kv[0][0], kv[0][1], order.index(kv[0][2]))):
        ha = med.get((c, path, "haproxy"))
        r = "%.2f" % (m["eq"] / ha["eq"]) if ha and ha["eq"] else "-"
        print("| %s, %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %s |" % (
            names[c], names[path], p, m["cpu"], m["peer"], m["kern"], m["user"], m["own"], m["eq"], r))
    for (c, path, p), m in sorted(med.items()):
        ha = med.get((c, path, "haproxy"))
        if p == "sluice" and ha and ha["eq"]:
            print()
            print("%s, %s: sluice's user space alone (an estimate of its cost with a NIC, whose PMD"
                  " makes no system call) is %.1f µs/req, %.2f of HAProxy's equal-terms figure." % (
                      names[c], names[path], m["user"], m["user"] / ha["eq"]))


def table(work, nidle):
    rows = {}
    for f in sorted(glob.glob(os.path.join(work, "res-*-*-*-*.wrk"))):
        _, p, c, path, _r = os.path.basename(f)[:-4].split("-")
        rows.setdefault((c, path, p), []).append(parse(f))
    med = {}
    for k, v in rows.items():
        med[k] = {f: statistics.median(x[f] for x in v) for f in ("rps", "p50", "p99", "us_req")}
        med[k]["errs"] = sum(x["errs"] for x in v)
        med[k]["lo"] = min(x["rps"] for x in v)
        med[k]["hi"] = max(x["rps"] for x in v)
    print()
    print("| case | proxy | req/s | rounds' range | p50 ms | p99 ms | errors | CPU µs/req | req/s ÷ HAProxy | CPU ÷ HAProxy |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    names = {"ka": "keep-alive", "close": "Connection: close", "s": "6 B", "l": "64 KB",
             "rl_s": "6 B, per-client rate limit (never refusing)",
             "f_s": "6 B, 1 of 3 backends killed 1 s in",
             "tls": "HTTPS keep-alive", "tlsnew": "HTTPS, a new TLS connection per request"}
    for c in ("ka", "close", "tls", "tlsnew"):
        for path in ("s", "l", "rl_s", "f_s"):
            ha = med.get((c, path, "haproxy"))
            for p in ("sluice", "haproxy", "nginx", "tap"):
                m = med.get((c, path, p))
                if not m:
                    continue
                r1 = "%.2f" % (m["rps"] / ha["rps"]) if ha and ha["rps"] else "-"
                r2 = "%.2f" % (m["us_req"] / ha["us_req"]) if ha and ha["us_req"] else "-"
                label = {"tap": "sluice (TAP testbed)"}.get(p, p)
                print("| %s, %s | %s | %.0f | %.0f-%.0f | %.2f | %.2f | %d | %.1f | %s | %s |" % (
                    names[c], names[path], label, m["rps"], m["lo"], m["hi"], m["p50"], m["p99"], m["errs"],
                    m["us_req"], r1, r2))
    equal_terms(work, names)
    # sluice's own view of the phases: what its TCP retransmitted and what af_packet lost.
    tcp = {}
    for f in sorted(glob.glob(os.path.join(work, "res-*-*-*-*.s1"))):
        try:
            a = json.load(open(f[:-3] + ".s0")); b = json.load(open(f))
        except (OSError, ValueError):
            continue
        _, p, c, path, _r = os.path.basename(f)[:-3].split("-")
        t = tcp.setdefault((p, c, path), [0, 0, {}, {}, 0, 0, 0, 0])
        reqs = parse(f[:-3] + ".wrk")["reqs"]
        t[4] += reqs
        t[5] += sum(x["tx_packets"] - y["tx_packets"] for x, y in zip(b["ports"], a["ports"]))
        t[6] += sum(x["rx_packets"] - y["rx_packets"] for x, y in zip(b["ports"], a["ports"]))
        t[7] += sum(x.get("tx_bursts", 0) - y.get("tx_bursts", 0) for x, y in zip(b["ports"], a["ports"]))
        for wa, wb in zip(a["workers"], b["workers"]):
            for k, x in wb.get("phase_seconds", {}).items():
                t[3][k] = t[3].get(k, 0) + x - wa["phase_seconds"].get(k, 0)
        t[0] += b["tcp"]["retransmits"] - a["tcp"]["retransmits"]
        t[1] += b["tcp"]["timeouts"] - a["tcp"]["timeouts"]
        for k, x in b["http"]["errors"].items():
            if x - a["http"]["errors"].get(k, 0):
                t[2][k] = t[2].get(k, 0) + x - a["http"]["errors"].get(k, 0)
    if tcp:
        print()
        print("sluice's counters over the phases (all rounds):")
        print()
        for (p, c, path), v in sorted(tcp.items()):
            print("- %s, %s, %s: %d retransmits, %d retransmission timeouts, proxy errors: %s" % (
                {"tap": "TAP testbed"}.get(p, p), names[c], names[path], v[0], v[1],
                ", ".join("%s %d" % kv for kv in sorted(v[2].items())) or "none"))
        print()
        print("sluice's busy µs per request by phase of the poll loop, and packets per request:")
        print()
        print("| case | rx | input | timers | output | tx | other | packets in | packets out | tx bursts |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (p, c, path), v in sorted(tcp.items()):
            if not v[4] or not v[3]:
                continue
            print("| %s, %s, %s | %s | %.1f | %.1f | %.2f |" % (
                {"tap": "TAP testbed"}.get(p, p), names[c], names[path],
                " | ".join("%.2f" % (v[3].get(k, 0) / v[4] * 1e6)
                           for k in ("rx", "input", "timers", "output", "tx", "other")),
                v[6] / v[4], v[5] / v[4], v[7] / v[4]))
    if nidle <= 0:
        return
    print()
    print("Memory per idle keep-alive client connection (%d opened):" % nidle)
    print()
    print("| proxy | connections held | bytes per connection | how |")
    print("|---|---:|---:|---|")
    slot = sess = None
    cm = os.path.join(work, "connmem.txt")
    if os.path.exists(cm):
        t = open(cm).read()
        m = re.search(r"slot_bytes=([\d.]+)", t)
        slot = int(round(float(m.group(1)))) if m else None
    for p in ("sluice", "haproxy", "nginx"):
        f = os.path.join(work, "res-mem-" + p)
        if not os.path.exists(f):
            continue
        d = dict(l.split(" ", 1) for l in open(f).read().splitlines())
        n = int(d["opened"].strip() or 0)
        if p == "sluice":
            try:
                a = json.loads(d["before"]); b = json.loads(d["after"])
                held = b["tcp"]["conns"] - a["tcp"]["conns"]
                mb = b["mbufs"]["in_use"] - a["mbufs"]["in_use"]
            except (ValueError, KeyError):
                print("| sluice | ? | ? | no stats |")
                continue
            sess = int(os.environ.get("BENCH_SESSION_BYTES", "0"))
            per = (slot or 0) + sess
            print("| sluice | %d | %d | TCP slot %s B (sl-bench-connmem) + session %d B; "
                  "mbufs in use %+d over the %d |" % (held, per, slot if slot else "?", sess, mb, held))
        else:
            kb = int(d["after"]) - int(d["before"])
            print("| %s | %d | %.0f | RSS delta %d KB / %d (kernel socket memory not included) |" % (
                p, n, kb * 1024.0 / n if n else float("nan"), kb, n))


if __name__ == "__main__":
    main()
