# SPDX-License-Identifier: MIT
"""Clients for test_admission.sh (plain sockets, HTTP/1.1). Each prints one JSON line.

  steady SRC URL RATE SECONDS   keep-alive requests at RATE/s from SRC: statuses
  burst SRC URL N               N requests at once, one connection each: status, seconds
  conns SRC HOST PORT N         open N connections and send a request on each; how many
                                answered, how many were reset; then closes 2 and opens 2
  drain SRC HOST PORT PATH N    N keep-alive connections: a quick request each, then a long
                                one on the first N-2 (the other 2 stay idle); prints what
                                came back and when; SIGTERM is the caller's business
"""
import json
import socket
import sys
import threading
import time


def conn(src, host, port, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, port))
    return s


def request(s, host, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())


def response(s):
    """(status, headers dict, body) of one response; raises on EOF or reset."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before a response head (%d bytes)" % len(buf))
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        hdr[k.strip().lower()] = v.strip()
    n = int(hdr.get("content-length", "0"))
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed in the body")
        rest += d
    return status, hdr, rest[:n]


def split_url(url):
    rest = url.split("://", 1)[1]
    hostport, path = rest.split("/", 1)
    host, _, port = hostport.partition(":")
    return host, int(port or 80), "/" + path


def steady(src, url, rate, seconds):
    host, port, path = split_url(url)
    codes = {}
    s = None
    t0 = time.monotonic()
    n = int(rate * seconds)
    t = t0
    for i in range(n):
        # Never faster than RATE: after a stall (a loaded machine) the schedule restarts
        # from now rather than catching up with a burst.
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
        t = max(t, time.monotonic()) + 1 / rate
        try:
            if s is None:
                s = conn(src, host, port)
            request(s, host, path)
            st, hdr, _ = response(s)
            if hdr.get("connection", "").lower() == "close":
                s.close()
                s = None
        except Exception as e:  # noqa: BLE001 - every failure is a figure
            st = type(e).__name__
            s = None
        codes[str(st)] = codes.get(str(st), 0) + 1
    print(json.dumps({"codes": codes, "seconds": round(time.monotonic() - t0, 2)}))


def burst(src, url, n):
    host, port, path = split_url(url)
    out = [None] * n
    ready = threading.Barrier(n + 1, timeout=20)

    def one(i):
        s = None
        try:
            try:
                s = conn(src, host, port)
            finally:
                ready.wait()  # every connection is open (or failed): then all send at once
            t = time.monotonic()
            request(s, host, path)
            st, hdr, body = response(s)
            ok = st != 200 or json.loads(body).get("path") is not None
            out[i] = {"status": st, "s": round(time.monotonic() - t, 3), "body_ok": ok,
                      "retry_after": hdr.get("retry-after")}
            s.close()
        except Exception as e:  # noqa: BLE001
            out[i] = {"status": type(e).__name__, "s": None}

    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    ready.wait()
    for t in th:
        t.join()
    print(json.dumps(out))


def try_one(src, host, port):
    try:
        s = conn(src, host, port, timeout=5)
        request(s, host, "/c")
        st, _, _ = response(s)
        return s, st
    except Exception as e:  # noqa: BLE001
        return None, type(e).__name__


def conns(src, host, port, n):
    held, fails = [], []
    for _ in range(n):
        s, st = try_one(src, host, port)
        (held.append(s) if s is not None and st == 200 else fails.append(str(st)))
    for s in held[:2]:
        s.close()
    time.sleep(0.3)
    again = []
    for _ in range(2):
        s, st = try_one(src, host, port)
        again.append(str(st))
        if s is not None:
            held.append(s)
    print(json.dumps({"answered": n - len(fails), "failed": fails, "again": again}))
    for s in held:
        s.close()


def drain(src, host, port, path, n):
    socks = [conn(src, host, port) for _ in range(n)]
    for s in socks:
        request(s, host, path.rsplit("/", 2)[0] + "/quick")
        response(s)
    res = [None] * n

    def long_one(i):
        s = socks[i]
        try:
            request(s, host, path)
            st, hdr, body = response(s)
            ok = json.loads(body).get("path") is not None
            eof = s.recv(1) == b""  # the connection closes after the response
            res[i] = {"status": st, "connection": hdr.get("connection"), "body_ok": ok,
                      "eof_after": eof, "t": round(time.monotonic() - t0, 2)}
        except Exception as e:  # noqa: BLE001
            res[i] = {"status": type(e).__name__, "t": round(time.monotonic() - t0, 2)}

    def idle_one(i):
        s = socks[i]
        try:
            d = s.recv(1)
            res[i] = {"idle": "fin" if d == b"" else "data",
                      "t": round(time.monotonic() - t0, 2)}
        except Exception as e:  # noqa: BLE001
            res[i] = {"idle": type(e).__name__, "t": round(time.monotonic() - t0, 2)}

    t0 = time.monotonic()
    th = [threading.Thread(target=long_one if i < n - 2 else idle_one, args=(i,))
          for i in range(n)]
    for t in th:
        t.start()
    print("sent", flush=True, file=sys.stderr)
    for t in th:
        t.join()
    # After the stop began: a new connection is refused.
    try:
        s = conn(src, host, port, timeout=3)
        request(s, host, "/late")
        st, _, _ = response(s)
        late = str(st)
    except Exception as e:  # noqa: BLE001
        late = type(e).__name__
    print(json.dumps({"results": res, "late": late}))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "steady":
        steady(a[1], a[2], float(a[3]), float(a[4]))
    elif a[0] == "burst":
        burst(a[1], a[2], int(a[3]))
    elif a[0] == "conns":
        conns(a[1], a[2], int(a[3]), int(a[4]))
    elif a[0] == "drain":
        drain(a[1], a[2], int(a[3]), a[4], int(a[5]))
