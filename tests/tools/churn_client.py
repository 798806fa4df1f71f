# SPDX-License-Identifier: MIT
"""Connection churn against an HTTP server, for tests/integration/test_tcp_churn.sh.

  churn_client.py preload SRC DST PORT LO HI STEP PARALLEL
      From SRC:p for p in range(LO, HI, STEP), one HTTP request each to DST:PORT
      asking the server to close first (GET /close), so that the server's kernel
      keeps a TIME-WAIT for every one of those 4-tuples. Prints how many completed.
  churn_client.py load DST PORT N PARALLEL TIMEOUT_S [SRC SRC_PORT]
      N requests, each on a new connection (Connection: close), PARALLEL at a
      time; prints one JSON line: done, failed, p50/p99/max latency (ms), slow
      (requests that took 900 ms or more: a SYN retransmission timeout or worse)
      and slow_connect (of those, the ones whose connect() alone took that long).
      With SRC and SRC_PORT, request i comes from SRC:SRC_PORT+i, so that no
      source port is used twice (the kernel's choice may reuse one that the
      server still holds in TIME-WAIT, which is not what this measures).

Every socket operation is bounded by a timeout; exit status 0 when every
request completed, 1 otherwise, 2 on bad usage.
"""
import json
import socket
import sys
import threading
import time


def one_request(dst, port, path, timeout, src=None, times=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(src)
        t0 = time.monotonic()
        s.connect((dst, port))
        if times is not None:
            times.append(time.monotonic() - t0)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: churn\r\nConnection: close\r\n\r\n" % path)
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        return got.startswith(b"HTTP/1.1 200")
    except OSError:
        return False
    finally:
        s.close()


def run_parallel(items, parallel, fn):
    lock = threading.Lock()
    it = iter(items)

    def worker():
        while True:
            with lock:
                x = next(it, None)
            if x is None:
                return
            fn(x)

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def preload(src, dst, port, lo, hi, step, parallel):
    ok = [0]
    lock = threading.Lock()

    def fn(p):
        if one_request(dst, port, b"/close", 5.0, (src, p)):
            with lock:
                ok[0] += 1

    run_parallel(range(lo, hi, step), parallel, fn)
    print(ok[0])
    return 0 if ok[0] > 0 else 1


def load(dst, port, n, parallel, timeout, src=None, src_port=0):
    lat = []
    failed = [0]
    slow_connect = [0]
    lock = threading.Lock()

    def fn(i):
        t0 = time.monotonic()
        ct = []
        ok = one_request(dst, port, b"/", timeout,
                         (src, src_port + i) if src is not None else None, ct)
        ms = (time.monotonic() - t0) * 1000.0
        with lock:
            if ok:
                lat.append(ms)
            else:
                failed[0] += 1
            if ct and ct[0] >= 0.9:
                slow_connect[0] += 1

    run_parallel(range(n), parallel, fn)
    lat.sort()

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None

    print(json.dumps({"done": len(lat), "failed": failed[0], "p50_ms": pct(0.5),
                      "p99_ms": pct(0.99), "max_ms": round(lat[-1], 1) if lat else None,
                      "slow": sum(1 for x in lat if x >= 900.0),
                      "slow_connect": slow_connect[0]}))
    return 0 if failed[0] == 0 and len(lat) == n else 1


def main(a):
    if len(a) == 8 and a[0] == "preload":
        return preload(a[1], a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]), int(a[7]))
    if len(a) in (6, 8) and a[0] == "load":
        src = (a[6], int(a[7])) if len(a) == 8 else (None, 0)
        return load(a[1], int(a[2]), int(a[3]), int(a[4]), float(a[5]), *src)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
